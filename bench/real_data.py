"""Table 2 on real data: the `train-baselines` flow on the official MedRQE and quaero releases, as a user runs it.

The releases are taken from ``../shared/corpora`` (or ``--corpora-dir``) and copied into ``data/`` of a scratch
project (``--project``, kept between invocations so the grid resumes from its checkpoints after a stop: a finished
run is not trained again). Each selection is one flow run: single-task per corpus x seeds, round robin x seeds and
loss summation x its seeds over {medrqe, quaero-2014}, every run stopping early on dev (patience, max epochs). The
result per selection is ``bench/results/real-<selection>.json`` (Table 2 rows: test metric of the selected model,
mean ± sd over seeds, runs and steps; every run with its seed, steps, selected epoch and wall time) and
``real-<selection>.md``; docs/real-data.md discusses them.

    python -m bench.real_data [--selection dev|paper] [--seeds 0,1,2] [--loss-sum-seeds 0] [--max-epochs 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from bench.common import CannotMeasure, machine_info, main_guard
from bench.pipeline import REPO, make_project

SHARED = REPO.parent / "shared" / "corpora"
RELEASES = {"quaero-2014": "quaero", "medrqe": "medrqe"}  # our corpus -> its folder (cheapest runs first)
RESULTS = REPO / "bench" / "results"


def releases(corpora_dir: Path) -> dict[str, Path]:
    missing = [folder for folder in RELEASES.values() if not (corpora_dir / folder).is_dir()]
    if missing:
        raise CannotMeasure(f"the real releases are not here: {corpora_dir} lacks {', '.join(missing)} (they sit in "
                            "../shared/corpora in the developers' workplace; elsewhere pass --corpora-dir with "
                            "medrqe/ and quaero/ unpacked inside)")
    return {corpus: corpora_dir / folder for corpus, folder in RELEASES.items()}


def project_for(path: Path, corpora_dir: Path) -> Path:
    """The scratch project, made on first use and reused after (its runs/ holds the grid's checkpoints)."""
    if (path / "dvc.yaml").is_file():
        return path
    return make_project(path, 1.0, releases(corpora_dir))


def open_project(path: Path, corpora_dir: Path) -> Path:
    """``project_for`` made the process's project: its own Prefect home (the flows' ephemeral server) and its own
    MLflow store (the project's, not one named in the environment)."""
    project = project_for(path, corpora_dir)
    os.environ["PREFECT_HOME"] = str(project / ".prefect")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a busy machine starts slowly
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    return project


def child_runs(uri: str, parent: str) -> list[dict[str, Any]]:
    """Every run of the grid: label, seed, steps, selected epoch, test metrics and wall time (MLflow's clock)."""
    from mtclin.tracking.compare import search_training_runs

    out = []
    for run in search_training_runs(uri=uri, parent=parent):
        tags, metrics = run.data.tags, run.data.metrics
        out.append({"schedule": tags["mtclin.schedule"], "corpora": tags["mtclin.corpora"],
                    "seed": int(tags["mtclin.seed"]), "steps": metrics.get("steps"),
                    "best_epoch": metrics.get("best/epoch"), "stopped_early": tags.get("mtclin.stopped_early"),
                    "wall_seconds": round((run.info.end_time - run.info.start_time) / 1000, 1),
                    "test": {k[len("test/"):]: v for k, v in metrics.items()
                             if k.startswith("test/") and "/per_type/" not in k}})
    return sorted(out, key=lambda r: (r["schedule"], r["corpora"], r["seed"]))


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selection", choices=["dev", "paper"], default="dev")
    parser.add_argument("--seeds", default="0,1,2", help="single-task and round-robin seeds")
    parser.add_argument("--loss-sum-seeds", default="0")
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--project", default=str(REPO.parent / "mtclin-real-data"))
    parser.add_argument("--corpora-dir", default=str(SHARED))
    parser.add_argument("--limit-train", type=int, default=0, help="smoke runs only: rows per task")
    parser.add_argument("--ner-head", default="bio", choices=["bio", "span"], help="quaero's NER head")
    parser.add_argument("--max-span-width", type=int, default=0,
                        help="span head: widest span in words (0: the narrowest covering 99 %% of train gold)")
    parser.add_argument("--head-learning-rate", type=float, default=0.0,
                        help="the task heads' learning rate (0: the encoder's); named in the result file when set")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    ls_seeds = [int(s) for s in args.loss_sum_seeds.split(",")] if args.loss_sum_seeds else []
    project = open_project(Path(args.project).resolve(), Path(args.corpora_dir))
    from flows.baselines import train_baselines
    from mtclin.tracking import store
    from mtclin.tracking.compare import markdown, table2_rows, search_training_runs

    started = time.perf_counter()
    schedules = ["round_robin"] + (["loss_sum"] if ls_seeds else [])
    out = train_baselines(corpora=list(RELEASES), seeds=seeds, multitask_schedules=schedules,
                          multitask_seeds={"round_robin": seeds, "loss_sum": ls_seeds}, epochs=args.max_epochs,
                          selection=args.selection, patience=args.patience, limit_train=args.limit_train,
                          ner_heads={"quaero-2014": args.ner_head} if args.ner_head != "bio" else {},
                          max_span_widths={"quaero-2014": args.max_span_width} if args.max_span_width else {},
                          head_learning_rate=args.head_learning_rate, project_dir=str(project))
    wall = time.perf_counter() - started
    uri = store.tracking_uri(project)
    rows = table2_rows(search_training_runs(uri=uri, parent=out["parent_run_id"]))
    table = markdown(rows, selection=args.selection)
    command = "python -m bench.real_data " + " ".join(argv if argv is not None else sys.argv[1:])
    payload = {"benchmark": "real-data", "selection": args.selection, "command": command.strip(),
               "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info("cpu"),
               "settings": vars(args), "flow_wall_seconds": round(wall, 1), "parent_run_id": out["parent_run_id"],
               "rows": [r.to_json() for r in rows], "runs": child_runs(uri, out["parent_run_id"])}
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    name = f"real-{args.selection}" + ("" if args.ner_head == "bio" else f"-{args.ner_head}")
    name += f"-hlr{args.head_learning_rate:g}" if args.head_learning_rate else ""
    (target / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (target / f"{name}.md").write_text(table)
    print(table)


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
