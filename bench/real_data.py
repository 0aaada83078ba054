"""Table 2 on real data: the `train-baselines` flow on the official MedRQE and quaero releases, as a user runs it.

The releases are taken from ``../shared/corpora`` (or ``--corpora-dir``) and copied into ``data/`` of a scratch
project (``--project``). The grid (single-task per corpus x seeds, round robin x seeds, loss summation x its
seeds over {medrqe, quaero-2014}, every run stopping early on dev: patience, max epochs) is trained one cell at a
time, each cell one `train-baselines` flow run that resumes from its checkpoints in the project after a stop. A
finished cell writes its record at once (``bench/results/<grid>-runs/<cell>.json``, ``bench.real_grid``); the
records are committed, so a later invocation, on this machine or a fresh one, trains only the cells without one.
The table is built from every record at the same settings: ``bench/results/<grid>.json`` (Table 2 rows: test
metric of the selected model, mean ± sd over seeds, runs and steps; every run with its seed, steps, selected
epoch, training seconds and code; the cells still missing) and ``<grid>.md``; docs/real-data.md discusses them.
``<grid>`` is ``real-<selection>`` plus what differs from the default grid (``bench.real_grid.grid_name``).

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

from bench.common import CannotMeasure, check_device, machine_info, main_guard
from bench.pipeline import REPO, make_project
from bench.real_grid import (GRID_SETTINGS, GridCell, as_runs, grid_cells, grid_name, paper_comparison,
                             read_records, record_of, run_summary)
from mtclin.atomic_dir import file_replaced_atomically

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


def provenance(device: str) -> dict[str, Any]:
    """The code (short commit, ``+changes`` when tracked files differ from it) and the machine (its GPU on cuda) a
    record was made with."""
    from mtclin.tracking.lineage import git_state

    state = git_state(REPO)
    dirty = state["mtclin.git.dirty"] == "true"
    return {"code": state["mtclin.git.commit"][:7] + ("+changes" if dirty else ""),
            "machine": machine_info(device), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def train_cell(cell: GridCell, args: argparse.Namespace, project: Path) -> Any:
    """The cell's `train-baselines` flow run (one child run; resumed from its checkpoints when it has some);
    returns that child run."""
    from flows.baselines import train_baselines
    from mtclin.tracking import store
    from mtclin.tracking.compare import search_training_runs
    from mtclin.tracking.runs import SINGLE_TASK

    single = cell.schedule == SINGLE_TASK
    quaero = "quaero-2014" in cell.corpora
    out = train_baselines(corpora=list(cell.corpora), seeds=[cell.seed] if single else [],
                          multitask_schedules=[] if single else [cell.schedule],
                          multitask_seeds={} if single else {cell.schedule: [cell.seed]},
                          epochs=args.max_epochs, selection=args.selection, patience=args.patience,
                          limit_train=args.limit_train, limit_eval=args.limit_eval, encoder=args.encoder,
                          device=args.device,
                          ner_heads={"quaero-2014": args.ner_head} if quaero and args.ner_head != "bio" else {},
                          max_span_widths={"quaero-2014": args.max_span_width} if quaero and args.max_span_width
                          else {}, head_learning_rate=args.head_learning_rate, project_dir=str(project))
    (run,) = search_training_runs(uri=store.tracking_uri(project), parent=out["parent_run_id"])
    return run


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selection", choices=["dev", "paper"], default="dev")
    parser.add_argument("--seeds", default="0,1,2", help="single-task and round-robin seeds")
    parser.add_argument("--single-task-seeds", default=None,
                        help="the single-task runs' seeds (default: --seeds; empty: multitask runs only)")
    parser.add_argument("--loss-sum-seeds", default="0")
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--project", default=str(REPO.parent / "mtclin-real-data"))
    parser.add_argument("--corpora-dir", default=str(SHARED))
    parser.add_argument("--limit-train", type=int, default=0, help="smoke runs only: train rows per task")
    parser.add_argument("--limit-eval", type=int, default=0, help="smoke runs only: dev/test rows per task")
    parser.add_argument("--encoder", default="minilm", help="HF model id or local path (default: the packaged "
                        "MiniLM-L6); named in the result files when not the default")
    parser.add_argument("--ner-head", default="bio", choices=["bio", "span"], help="quaero's NER head")
    parser.add_argument("--max-span-width", type=int, default=0,
                        help="span head: widest span in words (0: the narrowest covering 99 %% of train gold)")
    parser.add_argument("--head-learning-rate", type=float, default=0.0,
                        help="the task heads' learning rate (0: the encoder's); named in the result file when set")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where to train (cuda: bf16 autocast, its own result files)")
    parser.add_argument("--table-only", action="store_true",
                        help="train nothing: the table from the records there are")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    single_seeds = seeds if args.single_task_seeds is None else parse_seeds(args.single_task_seeds)
    multitask = {"round_robin": seeds} | ({"loss_sum": parse_seeds(args.loss_sum_seeds)}
                                          if args.loss_sum_seeds else {})
    settings = vars(args)
    name = grid_name(settings)
    out = Path(args.out)
    records_dir = out / f"{name}-runs"

    def recorded() -> set[str]:  # read again before each cell: another invocation may share these results
        return {r["label"] for r in read_records(records_dir, settings)}

    cells = grid_cells(list(RELEASES), single_seeds, multitask)
    if not args.table_only and {c.label for c in cells} - recorded():
        check_device(args.device)
        project = open_project(Path(args.project).resolve(), Path(args.corpora_dir))
        records_dir.mkdir(parents=True, exist_ok=True)
        for cell in cells:
            if cell.label in (done := recorded()):
                continue
            print(f"# {cell.label}: training ({len(done)} cells recorded in {records_dir})", flush=True)
            record = record_of(cell, train_cell(cell, args, project), settings, provenance(args.device))
            write_json(records_dir / f"{cell.label}.json", record)  # at once: a stop later keeps this cell
    records = read_records(records_dir, settings)
    if not records:
        raise CannotMeasure(f"no finished cell in {records_dir}: nothing to tabulate")
    from mtclin.tracking.compare import markdown, table2_rows

    rows = table2_rows(as_runs(records))
    table = markdown(rows, selection=args.selection)
    table += "\nAgainst the paper (BERT-base; its single-task column is the best of 5 seeds, every column's epoch " \
             "chosen on test):\n\n" + paper_comparison(rows, records)
    command = "python -m bench.real_data " + " ".join(argv if argv is not None else sys.argv[1:])
    missing = [c.label for c in cells if c.label not in {r["label"] for r in records}]
    payload = {"benchmark": "real-data", "selection": args.selection, "command": command.strip(),
               "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "settings": {k: settings[k] for k in GRID_SETTINGS}, "records": str(records_dir.name),
               "missing_cells": missing, "rows": [r.to_json() for r in rows],
               "runs": [run_summary(r) for r in records]}
    write_json(out / f"{name}.json", payload)
    (out / f"{name}.md").write_text(table)
    print(table)
    if missing:
        print(f"# not yet trained: {', '.join(missing)}", flush=True)


def parse_seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def write_json(path: Path, payload: dict[str, Any]) -> None:
    with file_replaced_atomically(path) as out:
        out.write(json.dumps(payload, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
