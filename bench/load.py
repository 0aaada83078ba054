"""Under load: the model behind an inference server with dynamic batching, concurrent single-note clients on
loopback, answers checked against the offline ones; then overload, which must end in HTTP errors, not a hang.

    python -m bench.load --model DIR [--backend onnx-int8] [--clients 32] [--requests 192] [--quick]

Server: LitServe (``litserve``), an existing inference server with dynamic batching: it queues requests and hands
its inference worker up to ``--max-batch-size`` of them at once, waiting at most ``--batch-timeout`` for a batch
to fill; a request that waited in the queue longer than the server timeout is answered HTTP 504. (MLServer's
adaptive batching through ``mlflow models serve --enable-mlserver`` was the first choice: MLServer 1.7.1 cannot be
installed beside the pinned packages, see docs/benchmarks.md.) The LitAPI below only adapts the request format:
one ``{"text": ...}`` / ``{"a", "b"}`` record per request, answered by ``mtclin.serving.answer`` on the batch (the
pyfunc's code), so a served answer is the ``mtclin predict`` answer.

Phases, each bounded in requests and time, on 127.0.0.1 only:
1. offline: the backend's notes/s with the Predictor at batch 32 in a fresh process, and its answers;
2. load: ``--clients`` threads, each sending one note per request and the next when answered, ``--requests`` in
   all (stops after ``--duration`` s at the latest): throughput, p50/p95/p99 latency, answers equal to offline;
3. overload: a server with a ``--overload-timeout`` s queue timeout and ``--overload-clients`` clients sending
   without pause: every request must end in 200 (a correct answer) or 504 within the client's own timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import litserve as ls

from bench.common import (WORKER_ENV, CannotMeasure, Figure, check_device, main_guard, report, run_worker,
                          write_result)
from bench.inference import make_workload
from bench.serving import SETUPS as BACKENDS, load_predictor, percentile

SCORE_TOLERANCE = 1e-4  # served and offline scores may differ by float noise: different batches, other padding


class MTClinAPI(ls.LitAPI):
    """Request record -> the Predictor's answer; batches are lists of records. (Module level: LitServe pickles it
    into its inference worker process.)"""

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(max_batch_size=cfg["max_batch_size"], batch_timeout=cfg["batch_timeout"])
        self.cfg = cfg

    def setup(self, device):
        self.predictor = load_predictor(self.cfg["backend"], self.cfg["path"], "cpu", 32, self.cfg["threads"])

    def decode_request(self, request, **kwargs):
        from mtclin.tracking.pyfunc import to_records

        return to_records(request)[0]  # checks the record: "text", or "a" and "b"

    def batch(self, inputs):
        return list(inputs)

    def predict(self, records, **kwargs):
        from mtclin.serving import answer

        if self.cfg.get("batch_log"):  # the batch sizes the server formed: evidence of dynamic batching
            with open(self.cfg["batch_log"], "a") as log:
                log.write(f"{len(records)}\n")
        return answer(self.predictor, records)

    def unbatch(self, output):
        return list(output)

    def encode_response(self, output, **kwargs):
        return output


def serve(cfg: dict[str, Any]) -> None:
    """Run the server in this process until it is terminated."""
    api = MTClinAPI(cfg)
    server = ls.LitServer(api, accelerator="cpu", devices=1, workers_per_device=1, timeout=cfg["timeout"])
    server.run(host="127.0.0.1", port=cfg["port"], num_api_servers=1, log_level="warning",
               generate_client_file=False)


# --- offline ----------------------------------------------------------------------------------------------------

def offline_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """The backend's notes/s at Predictor batch 32 (fastest of two) and its answers, as the server would give."""
    import torch

    from mtclin.serving import answer

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    notes, _ = make_workload(cfg["notes"], 0, cfg["seed"])
    predictor = load_predictor(cfg["backend"], cfg["path"], "cpu", 32, cfg["threads"])
    predictor.predict(notes[:4])
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        answers = answer(predictor, [{"text": n} for n in notes])
        times.append(time.perf_counter() - t0)
    return {"notes_s": min(times), "answers": answers}


# --- clients ----------------------------------------------------------------------------------------------------

def post(url: str, record: dict[str, Any], timeout: float) -> tuple[int, Any, float]:
    """(HTTP status, parsed body or error text, seconds); status 0 when no answer came within ``timeout``."""
    request = urllib.request.Request(url, json.dumps(record).encode(), {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response), time.perf_counter() - t0
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")[:200], time.perf_counter() - t0
    except OSError as err:  # timeouts, refused connections
        return 0, repr(err)[:200], time.perf_counter() - t0


def drive(url: str, notes: Sequence[str], clients: int, requests: int, duration: float, timeout: float
          ) -> tuple[list[dict[str, Any]], float]:
    """``clients`` threads, each posting one note at a time (note k = request k mod len(notes)) until ``requests``
    were sent or ``duration`` s passed. Returns every request's record and the wall time."""
    lock, counter, out = threading.Lock(), [0], []
    deadline = time.perf_counter() + duration

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                k = counter[0]
                if k >= requests:
                    return
                counter[0] += 1
            status, body, seconds = post(url, {"text": notes[k % len(notes)]}, timeout)
            with lock:
                out.append({"k": k, "status": status, "body": body, "s": seconds})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    return sorted(out, key=lambda r: r["k"]), time.perf_counter() - t0


def same_answer(got: dict[str, Any], want: dict[str, Any], scores: bool = True) -> bool:
    """The same entities (spans, types) per task, and (``scores``) scores within SCORE_TOLERANCE."""
    a, b = got.get("entities", {}), want.get("entities", {})
    if a.keys() != b.keys():
        return False
    for task in a:
        if [(e["start"], e["end"], e["type"]) for e in a[task]] != [(e["start"], e["end"], e["type"]) for e in b[task]]:
            return False
        if scores and any(abs(x["score"] - y["score"]) > SCORE_TOLERANCE for x, y in zip(a[task], b[task])):
            return False
    return True


class Server:
    """The server in a subprocess (its own process group), up when /health answers; stopped on exit."""

    def __init__(self, cfg: dict[str, Any], log: Path, start_timeout: float = 180):
        self.cfg, self.log = cfg, log
        env = os.environ | WORKER_ENV
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.load", "--serve", json.dumps(cfg)],
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                                     cwd=Path(__file__).resolve().parent.parent, start_new_session=True)
        deadline = time.time() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{cfg['port']}/health", timeout=2) as r:
                    if r.status == 200 and r.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise CannotMeasure(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its inference worker processes
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- main -------------------------------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summary(name: str, records: list[dict[str, Any]], wall: float, offline: list[dict[str, Any]]) -> list[Figure]:
    ok = [r for r in records if r["status"] == 200]
    seconds = [1000 * r["s"] for r in ok] or [0.0]
    correct = sum(same_answer(r["body"], offline[r["k"] % len(offline)]) for r in ok)
    entities = sum(same_answer(r["body"], offline[r["k"] % len(offline)], scores=False) for r in ok)
    return [Figure(f"{name}.requests", len(records), "requests"),
            Figure(f"{name}.ok", len(ok), "requests"),
            Figure(f"{name}.http_504", sum(r["status"] == 504 for r in records), "requests"),
            Figure(f"{name}.other_errors", sum(r["status"] not in (0, 200, 504) for r in records), "requests"),
            Figure(f"{name}.no_answer", sum(r["status"] == 0 for r in records), "requests"),
            Figure(f"{name}.notes_per_s", len(ok) / wall, "notes/s"),
            Figure(f"{name}.latency_p50", percentile(seconds, 50), "ms"),
            Figure(f"{name}.latency_p95", percentile(seconds, 95), "ms"),
            Figure(f"{name}.latency_p99", percentile(seconds, 99), "ms"),
            Figure(f"{name}.latency_max_any_status", 1000 * max((r["s"] for r in records), default=0.0), "ms"),
            Figure(f"{name}.answers_equal_offline", correct / max(len(ok), 1), "fraction"),
            Figure(f"{name}.entities_equal_offline", entities / max(len(ok), 1), "fraction")]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=False, help="a saved model directory (backend torch) or an export "
                        "directory (onnx-*); default: bench.serving's work directory")
    parser.add_argument("--backend", default="onnx-int8", choices=BACKENDS)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=None, help="load requests in all (default 192; quick 32)")
    parser.add_argument("--duration", type=float, default=300, help="the load phase stops after this many s")
    parser.add_argument("--notes", type=int, default=None, help="distinct notes sent (default 40; quick 8)")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--batch-timeout", type=float, default=0.05, help="s the server waits for a batch to fill")
    parser.add_argument("--timeout", type=float, default=60, help="server queue timeout in the load phase (s)")
    parser.add_argument("--overload-clients", type=int, default=64)
    parser.add_argument("--overload-requests", type=int, default=None, help="default 192; quick 64")
    parser.add_argument("--overload-timeout", type=float, default=2.0, help="server queue timeout in the "
                        "overload phase (s): requests waiting longer get HTTP 504")
    parser.add_argument("--threads", type=int, default=0, help="inference threads (0: the library's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="parse the arguments, print the plan and stop")
    parser.add_argument("--out", default=None, help="result JSON (default bench/results/load-cpu.json; "
                        "`python -m bench.serving` runs this test too and keeps it in serving-<device>.json)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_test(args: argparse.Namespace) -> tuple[list[Figure], dict[str, Any], dict[str, Any]]:
    """The three phases with ``args`` (``parse_args``): (figures, settings, details). bench.serving calls it."""
    import tempfile

    requests = args.requests or (32 if args.quick else 192)
    overload_requests = args.overload_requests or (64 if args.quick else 192)
    n_notes = args.notes or (8 if args.quick else 40)
    default_dir = Path(tempfile.gettempdir()) / "mtclin-bench-serving"
    path = args.model or str(default_dir / ("run/model" if args.backend == "torch" else f"exports/{args.backend}"))
    if not Path(path).is_dir():
        raise CannotMeasure(f"{path}: no model; pass --model, or run `python -m bench.serving` first (it leaves "
                            "its model and exports there)")
    settings = {k: getattr(args, k) for k in ("backend", "clients", "duration", "max_batch_size", "batch_timeout",
                                              "timeout", "overload_clients", "overload_timeout", "threads", "seed",
                                              "quick")} | {"model": path, "requests": requests, "notes": n_notes,
                                                           "overload_requests": overload_requests,
                                                           "server": "litserve"}
    started = time.perf_counter()
    notes, _ = make_workload(n_notes, 0, args.seed)
    offline = run_worker("bench.load", {"backend": args.backend, "path": path, "notes": n_notes, "seed": args.seed,
                                        "threads": args.threads})
    print(f"# offline: {n_notes / offline['notes_s']:.2f} notes/s", file=sys.stderr, flush=True)
    figures = [Figure("offline.b32.notes_per_s", n_notes / offline["notes_s"], "notes/s")]
    details: dict[str, Any] = {"offline_notes_s": offline["notes_s"]}
    with tempfile.TemporaryDirectory(prefix="mtclin-load-") as tmp:
        for phase, clients, count, timeout in (("load", args.clients, requests, args.timeout),
                                               ("overload", args.overload_clients, overload_requests,
                                                args.overload_timeout)):
            batch_log = Path(tmp) / f"{phase}-batches.txt"
            cfg = {"backend": args.backend, "path": path, "threads": args.threads, "port": free_port(),
                   "max_batch_size": args.max_batch_size, "batch_timeout": args.batch_timeout, "timeout": timeout,
                   "batch_log": str(batch_log)}
            with Server(cfg, Path(tmp) / f"{phase}.log"):
                url = f"http://127.0.0.1:{cfg['port']}/predict"
                post(url, {"text": notes[0]}, 120)  # warm-up, not counted
                batch_log.write_text("")
                # a client waits at most 10x the server's queue timeout: past that the server hangs
                records, wall = drive(url, notes, clients, count, args.duration, max(10 * timeout, 60))
            sizes = [int(x) for x in batch_log.read_text().split()]
            figures += summary(phase, records, wall, offline["answers"])
            figures.append(Figure(f"{phase}.mean_server_batch", sum(sizes) / max(len(sizes), 1), "requests"))
            details[phase] = {"wall_s": wall, "server_batches": sizes, "errors": [
                {"k": r["k"], "status": r["status"], "body": r["body"], "s": r["s"]}
                for r in records if r["status"] != 200][:10]}
            print(f"# {phase}: {len(records)} requests in {wall:.1f}s", file=sys.stderr, flush=True)
    by_name = {f.name: f.value for f in figures}
    fraction = by_name["load.notes_per_s"] / by_name["offline.b32.notes_per_s"]
    figures += [Figure("load.fraction_of_offline_b32", fraction, "fraction"),
                Figure("goal.load_70pct_of_offline_met", int(fraction >= 0.7 and by_name["load.ok"] == requests
                                                             and by_name["load.answers_equal_offline"] == 1.0),
                       "bool"),
                Figure("overload.ended_without_hang", int(by_name["overload.no_answer"] == 0
                                                          and by_name["overload.other_errors"] == 0), "bool")]
    settings["wall_s"] = time.perf_counter() - started
    return figures, settings, details


def run(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve:
        serve(json.loads(args.serve))
        return
    if args.worker:
        report(offline_worker(json.loads(args.worker)))
        return
    check_device("cpu")
    if args.dry_run:
        print(json.dumps({"plan": "load"} | {k: v for k, v in vars(args).items() if k not in ("worker", "serve")}))
        return
    figures, settings, details = load_test(args)
    write_result("load", "cpu", figures, settings, details, args.out)


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
