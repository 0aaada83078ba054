"""A learning curve on real data: quaero as "the new corpus", from the plain encoder and from a model trained on
MedRQE, through the `learning-curve` flow as a user runs it.

The same scratch project as ``bench.real_data`` (``--project``; releases copied from ``../shared/corpora``). The
model to start from is MedRQE's single-task model, trained by the `train-multitask` flow with the settings of the
real-data grid, so a grid that already trained it is reused from its run directory rather than trained again.
MedRQE (English question pairs) is the only other real corpus at hand, a weak start for French entity
recognition: with the DUA corpora a user runs the real question (a multitask model over the other seven) with
``--init models:/NAME@ALIAS``. Results: ``bench/results/real-curve.{json,md,png}``.

    python -m bench.real_curve [--fractions 0.05,0.1,0.25,0.5,1] [--seeds 0] [--max-epochs 3] [--patience 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from bench.common import machine_info, main_guard
from bench.pipeline import REPO
from bench.real_data import RESULTS, SHARED, open_project

CORPUS, INIT_CORPUS = "quaero-2014", "medrqe"


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", default="0.05,0.1,0.25,0.5,1")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--patience", type=int, default=1)
    parser.add_argument("--init", default="", help="a model directory or models:/NAME@ALIAS to start from "
                                                   "(default: MedRQE's single-task model, trained if missing)")
    parser.add_argument("--project", default=str(REPO.parent / "mtclin-real-data"))
    parser.add_argument("--corpora-dir", default=str(SHARED))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    project = open_project(Path(args.project).resolve(), Path(args.corpora_dir))
    from flows.learning_curve import learning_curve
    from flows.train_multitask import train_multitask
    from mtclin.tracking import store
    from mtclin.tracking.compare import search_training_runs
    from mtclin.tracking.curves import curve_points, figure, markdown

    started = time.perf_counter()
    init = args.init
    if not init:
        # checkpoint_every=0 as in train-baselines: the same config, so the grid's finished run is reused
        trained = train_multitask(corpora=[INIT_CORPUS], epochs=args.max_epochs, selection="dev",
                                  patience=args.patience, checkpoint_every=0, register_model=False,
                                  project_dir=str(project))
        init = str(Path(trained["run_dir"]) / "model")
    out = learning_curve(corpus=CORPUS, init=init, fractions=[float(f) for f in args.fractions.split(",")],
                         seeds=[int(s) for s in args.seeds.split(",")], epochs=args.max_epochs,
                         patience=args.patience, project_dir=str(project))
    wall = time.perf_counter() - started
    runs = search_training_runs(uri=store.tracking_uri(project), parent=out["parent_run_id"])
    points = curve_points(runs, CORPUS)
    label = f"{INIT_CORPUS} single-task model" if not args.init else args.init
    table = markdown(points, CORPUS, label)
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.real_curve " + " ".join(argv if argv is not None else sys.argv[1:])
    payload = {"benchmark": "real-curve", "command": command.strip(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "machine": machine_info("cpu"), "settings": vars(args), "init": out["init"],
               "flow_wall_seconds": round(wall, 1), "parent_run_id": out["parent_run_id"],
               "points": [{"start": p.start, "fraction": p.fraction, "test": p.values, "steps": p.steps}
                          for p in points]}
    (target / "real-curve.json").write_text(json.dumps(payload, indent=2) + "\n")
    (target / "real-curve.md").write_text(table)
    figure(points, CORPUS).savefig(target / "real-curve.png", dpi=120)
    print(table)


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
