"""Pipeline benchmark: the `train-multitask` flow on the sample corpora cold, then again with nothing changed.

Reports each step's duration from Prefect's own task-run records, the warm run's preprocessing + validation time
(target <= 5 s: DVC skips unchanged stages, Prefect reuses the validation result), and the orchestration overhead
(flow wall time minus the training step). The project is a fresh copy in a temporary directory (git + DVC +
sample corpora), so the run starts truly cold.

    python -m bench.pipeline [--epochs 1] [--encoder minilm] [--scale 1.0] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from bench.common import CannotMeasure, Figure, main_guard, write_result

REPO = Path(__file__).resolve().parents[1]
STEPS = ("preprocess", "validate", "train", "register")  # train includes the one test evaluation


def make_project(root: Path, scale: float, releases: dict[str, Path] | None = None) -> Path:
    """A scratch project as a user has it: the pipeline files, git + DVC, and ``data/`` holding either the sample
    corpora at ``scale`` or, with ``releases`` ({corpus: unpacked release}), copies of those real releases only
    (as a user unpacks them into data/<corpus>/), pinned by ``dvc add data``."""
    root.mkdir(parents=True)
    for name in ("dvc.yaml", "params.yaml", "corpora.yaml"):  # corpora.yaml: the declared corpora (DVC vars)
        shutil.copy(REPO / name, root / name)
    for name in ("mtclin", "flows", "expectations"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for corpus, release in (releases or {}).items():
        shutil.copytree(release, root / "data" / corpus)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    samples = [] if releases else [[sys.executable, "-m", "mtclin.cli", "sample-corpora", "data", "--scale",
                                    str(scale)]]
    for cmd in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"], *samples,
                [sys.executable, "-m", "dvc", "add", "-q", "data"]):
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        if done.returncode:
            raise CannotMeasure(f"{cmd} failed: {done.stderr[-500:]}")
    return root


def step_durations(flow_run_id) -> dict[str, float]:
    """Seconds per task name of one flow run, from the Prefect API."""
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> dict[str, float]:
        async with get_client() as client:
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        out: dict[str, float] = {}
        for run in runs:
            name = run.name.rsplit("-", 1)[0]
            seconds = (run.end_time - run.start_time).total_seconds() if run.start_time and run.end_time else 0.0
            out[name] = out.get(name, 0.0) + seconds
        return out

    return anyio.run(read)


def timed_flow(project: Path, params: dict[str, Any]) -> tuple[float, dict[str, float]]:
    from flows.train_multitask import train_multitask

    start = time.perf_counter()
    state = train_multitask(project_dir=str(project), return_state=True, **params)
    wall = time.perf_counter() - start
    if not state.is_completed():
        raise CannotMeasure(f"flow run failed: {state.message}")
    return wall, step_durations(state.state_details.flow_run_id)


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="scale 0.3, limited rows")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    scale = 0.3 if args.quick else args.scale
    params: dict[str, Any] = {"epochs": args.epochs, "encoder": args.encoder}
    if args.quick:
        params |= {"limit_train": 16, "limit_eval": 8}
    with tempfile.TemporaryDirectory(prefix="mtclin-bench-") as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")  # a fresh Prefect state: nothing cached
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        project = make_project(Path(tmp) / "project", scale)
        cold_wall, cold = timed_flow(project, params)
        warm_wall, warm = timed_flow(project, params)
    figures = []
    for label, wall, steps in (("cold", cold_wall, cold), ("warm", warm_wall, warm)):
        figures.append(Figure(f"{label}.flow_wall", round(wall, 2), "s"))
        figures += [Figure(f"{label}.{step}", round(steps.get(step, 0.0), 2), "s") for step in STEPS]
        figures.append(Figure(f"{label}.orchestration_overhead", round(wall - steps.get("train", 0.0), 2), "s"))
    warm_gate = warm.get("preprocess", 0.0) + warm.get("validate", 0.0)
    figures.append(Figure("warm.preprocess_plus_validate", round(warm_gate, 2), "s"))
    figures.append(Figure("warm.preprocess_plus_validate_target_met", float(warm_gate <= 5.0), "bool"))
    write_result("pipeline", "cpu", figures, vars(args) | {"params": params}, {"cold": cold, "warm": warm}, args.out)


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
