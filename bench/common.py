"""What every benchmark shares: the machine's description, figures and the JSON result, peak memory, timing,
and running one measured configuration in a fresh subprocess (a process's CPU peak RSS only ever grows, so each
configuration whose peak memory is reported gets a process of its own).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULT_PREFIX = "BENCH_RESULT "  # the worker's one stdout line the parent parses (libraries may print too)
WORKER_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", "TQDM_DISABLE": "1"}


class CannotMeasure(RuntimeError):
    """A figure could not be measured (no CUDA, a worker failed): the benchmark exits non-zero."""


@dataclass(frozen=True)
class Figure:
    name: str  # dotted, no spaces: "b32.notes.speedup"
    value: float
    unit: str  # "notes/s", "MiB", "x", "fraction", ...

    def line(self) -> str:
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.name} {value} {self.unit}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str) -> dict[str, Any]:
    """CPU model, cores, load, library versions and the accelerator: enough to tell two result files apart."""
    import torch
    import transformers

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1m": os.getloadavg()[0],  # a busy machine makes every timing slower and noisier
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "platform": platform.platform(),
        "device": device,
    }
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info |= {"gpu": props.name, "gpu_memory_gib": round(props.total_memory / 2**30, 1),
                 "cuda": torch.version.cuda}
    return info


def check_device(device: str) -> None:
    """Raise CannotMeasure when ``device`` cannot be used here."""
    import torch

    if device not in ("cpu", "cuda"):
        raise CannotMeasure(f"--device {device}: use cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise CannotMeasure("--device cuda: torch sees no CUDA device here (run with --device cpu)")


# --- time and memory, inside a worker -------------------------------------------------------------------------

def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def now(device: str) -> float:
    """A timestamp after every queued GPU kernel has finished."""
    sync(device)
    return time.perf_counter()


def rss_mib() -> float:
    """This process's resident memory now."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak(device: str) -> None:
    """Start a fresh peak on CUDA (CPU peak RSS cannot be reset: measure in a fresh process instead)."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def memory_now_mib(device: str) -> float:
    """Allocated tensor memory on CUDA; resident memory of the process on CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.memory_allocated() / 2**20
    return rss_mib()


def peak_mib(device: str) -> float:
    """Peak since ``reset_peak`` on CUDA (torch.cuda.max_memory_allocated); peak RSS of the process on CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mib()


# --- workers: one measured configuration per fresh process ------------------------------------------------------

def run_worker(module: str, config: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m <module> --worker '<json config>'`` in a fresh process; return the dict it reported with
    ``report()``. Raises CannotMeasure with the worker's stderr tail when it fails."""
    env = os.environ | WORKER_ENV
    cmd = [sys.executable, "-m", module, "--worker", json.dumps(config)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=Path(__file__).resolve().parent.parent)
    except subprocess.TimeoutExpired:
        raise CannotMeasure(f"{module} worker {config} ran past {timeout:.0f}s; use fewer items or --quick") \
            from None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX) and proc.returncode == 0:
            return json.loads(line[len(RESULT_PREFIX):])
    tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
    raise CannotMeasure(f"{module} worker {config} failed (exit {proc.returncode}):\n{tail}")


def report(result: dict[str, Any]) -> None:
    """A worker's last act: its result as one stdout line for ``run_worker``."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# --- results ----------------------------------------------------------------------------------------------------

def result_path(name: str, device: str, out: str | None) -> Path:
    return Path(out) if out else RESULTS_DIR / f"{name}-{device}.json"


def write_result(name: str, device: str, figures: Sequence[Figure], settings: dict[str, Any],
                 details: dict[str, Any], out: str | None = None) -> Path:
    """Print one line per figure and write ``bench/results/<name>-<device>.json`` (or ``out``)."""
    for figure in figures:
        print(figure.line(), flush=True)
    path = result_path(name, device, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(device),
        "settings": settings,
        "figures": [asdict(f) for f in figures],
        "details": details,  # every worker's raw measurements
    }
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    print(f"# wrote {path}", file=sys.stderr)
    return path


def main_guard(run, argv: Sequence[str] | None = None) -> int:
    """Run a benchmark's ``run(argv)``; a CannotMeasure becomes a message and exit status 2."""
    try:
        run(argv)
    except CannotMeasure as err:
        print(f"cannot measure: {err}", file=sys.stderr)
        return 2
    return 0
