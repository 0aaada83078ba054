"""Quality on the CPU budget: the paper's Table 2 on the sample corpora with the MiniLM encoder.

Runs the `train-baselines` flow (single-task fine-tuning per corpus x seeds, round robin and loss summation) on a
fresh copy of the project and writes the Table 2 rows (per corpus: round robin, loss sum, best single-task, delta)
as JSON and markdown. The sample corpora are small and synthetic: the numbers say that the three training regimes
work end to end and how they compare at equal epochs, not what they reach on the real corpora.

    python -m bench.quality [--epochs 3] [--seeds 0] [--learning-rate 1e-4] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from bench.common import CannotMeasure, Figure, main_guard, write_result
from bench.pipeline import make_project


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0", help="comma-separated single-task seeds (paper: 5)")
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--quick", action="store_true", help="2 corpora, 1 epoch, limited rows")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from flows.baselines import train_baselines
    from mtclin.corpora.registry import CORPORA
    from mtclin.tracking import store
    from mtclin.tracking.compare import markdown, search_training_runs, table2_rows

    params: dict[str, Any] = {"corpora": list(CORPORA), "seeds": [int(s) for s in args.seeds.split(",")],
                              "epochs": args.epochs, "learning_rate": args.learning_rate, "encoder": args.encoder}
    if args.quick:
        params |= {"corpora": ["medrqe", "i2b2-2010"], "epochs": 1, "limit_train": 16, "limit_eval": 8}
    with tempfile.TemporaryDirectory(prefix="mtclin-quality-") as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        project = make_project(Path(tmp) / "project", 1.0)
        state = train_baselines(project_dir=str(project), return_state=True, **params)
        if not state.is_completed():
            raise CannotMeasure(f"train-baselines failed: {state.message}")
        parent = state.result()["parent_run_id"]
        rows = table2_rows(search_training_runs(uri=store.tracking_uri(project), parent=parent))
    if not rows:
        raise CannotMeasure("no Table 2 rows: the runs logged no metrics")
    table = markdown(rows)
    print(table)
    figures = []
    for row in rows:
        for column, value in row.values.items():
            if value is not None:
                figures.append(Figure(f"{row.corpus}.{column}.{row.metric}", round(100 * value, 1), "points"))
        if row.delta is not None:
            figures.append(Figure(f"{row.corpus}.delta_round_robin_vs_single", round(100 * row.delta, 1), "points"))
    details = {"rows": [asdict(r) | {"delta": r.delta} for r in rows], "markdown": table}
    path = write_result("quality", "cpu", figures, vars(args) | {"params": params}, details, args.out)
    path.with_suffix(".md").write_text(table + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
