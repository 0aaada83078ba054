"""The real-data grid as cells whose results are files: a grid longer than one machine's life is run in pieces.

A cell is one training run of Table 2's grid (single-task on one corpus, or one multitask schedule on all of them,
with one seed). Each finished cell leaves a record, ``<records>/<label>.json``: its MLflow tags and metrics (test
metrics of the selected model, steps, selected epoch, training seconds), its settings, the code and machine that
made it. Records are committed with the results, so a later session on a fresh machine trains only the cells
that have none, and the table is built from every record made at the same settings. Pure functions; the training
and the writing are in ``bench.real_data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping, Sequence

from mtclin.tracking.runs import CORPORA_TAG, SCHEDULE_TAG, SEED_TAG, SELECTION_TAG, SINGLE_TASK

# what a record keeps of its MLflow run: the tags Table 2 reads, and every metric but the per-type ones
KEPT_TAGS = (SCHEDULE_TAG, CORPORA_TAG, SELECTION_TAG, SEED_TAG, "mtclin.stopped_early")
# the settings that make cells comparable (one table per combination)
GRID_SETTINGS = ("selection", "max_epochs", "patience", "ner_head", "max_span_width", "head_learning_rate",
                 "limit_train", "encoder", "limit_eval", "device")
# settings added after records were first written: a record without one was made at this value
LATER_SETTINGS = {"encoder": "minilm", "limit_eval": 0, "device": "cpu"}


@dataclass(frozen=True)
class GridCell:
    schedule: str  # single_task, round_robin, loss_sum
    corpora: tuple[str, ...]
    seed: int

    @property
    def label(self) -> str:
        what = self.corpora[0] if self.schedule == SINGLE_TASK else self.schedule
        return f"{what}-seed{self.seed}"


def grid_cells(corpora: Sequence[str], single_seeds: Sequence[int],
               multitask_seeds: Mapping[str, Sequence[int]]) -> list[GridCell]:
    """Single-task per corpus x seed (in ``corpora``' order: cheapest first), then each schedule x its seeds."""
    cells = [GridCell(SINGLE_TASK, (corpus,), seed) for corpus in corpora for seed in single_seeds]
    return cells + [GridCell(schedule, tuple(corpora), seed)
                    for schedule, seeds in multitask_seeds.items() for seed in seeds]


def grid_name(settings: Mapping[str, Any]) -> str:
    """``real-<selection>[-<head>][-hlr<rate>]``, with the epoch budget when it is not the grid's (8, patience 2),
    ``-limit<n>`` / ``-limiteval<n>`` for smoke runs, the encoder's last path part when it is not the packaged
    MiniLM and ``-cuda`` on a GPU: the records' folder and the table's file name."""
    name = f"real-{settings['selection']}"
    name += "" if settings["ner_head"] == "bio" else f"-{settings['ner_head']}"
    name += f"-hlr{settings['head_learning_rate']:g}" if settings["head_learning_rate"] else ""
    if (settings["max_epochs"], settings["patience"]) != (8, 2):
        name += f"-e{settings['max_epochs']}p{settings['patience']}"
    name += f"-limit{settings['limit_train']}" if settings["limit_train"] else ""
    name += f"-limiteval{settings['limit_eval']}" if settings["limit_eval"] else ""
    name += "" if settings["encoder"] == LATER_SETTINGS["encoder"] else f"-{Path(settings['encoder']).name}"
    # a GPU trains in bf16: its own table
    return name + ("" if settings["device"] == "cpu" else f"-{settings['device'].split(':')[0]}")


def record_of(cell: GridCell, run: Any, settings: Mapping[str, Any], provenance: Mapping[str, Any]) -> dict[str, Any]:
    """A finished cell's record from its MLflow run (``run.data.tags`` / ``.metrics``, ``run.info``)."""
    tags, metrics = run.data.tags, run.data.metrics
    return {"label": cell.label, "schedule": cell.schedule, "corpora": list(cell.corpora), "seed": cell.seed,
            "settings": {k: settings[k] for k in GRID_SETTINGS}, "run_id": run.info.run_id,
            "tags": {k: tags[k] for k in KEPT_TAGS if k in tags},
            "metrics": {k: v for k, v in sorted(metrics.items()) if "/per_type/" not in k}} | dict(provenance)


def read_records(folder: Path, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record in ``folder`` made at ``settings`` (the grid's ones), in label order. A record that is not
    JSON, or lacks what a record has, is an error naming its file."""
    wanted = {k: settings[k] for k in GRID_SETTINGS}
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            same = LATER_SETTINGS | record["settings"] == wanted
            record["tags"], record["metrics"]  # noqa: B018 (required keys)
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a grid record ({type(err).__name__}: {err})") from None
        if same:
            out.append(record)
    return out


def as_runs(records: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Records as the run objects ``mtclin.tracking.compare.table2_rows`` reads (``.data.tags``/``.metrics``)."""
    return [SimpleNamespace(data=SimpleNamespace(tags=dict(r["tags"]), metrics=dict(r["metrics"])))
            for r in records]


def run_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the table's JSON per run: who, how long, which epoch, what on test."""
    metrics = record["metrics"]
    return {"label": record["label"], "schedule": record["schedule"], "corpora": ",".join(record["corpora"]),
            "seed": record["seed"], "steps": metrics.get("steps"), "best_epoch": metrics.get("best/epoch"),
            "stopped_early": record["tags"].get("mtclin.stopped_early"),
            "train_seconds": metrics.get("train_seconds"), "code": record.get("code"),
            "test": {k[len("test/"):]: v for k, v in metrics.items() if k.startswith("test/")}}


# the paper's Table 2 for the two public corpora (PAPER.md; BERT-base, best of 5 seeds single-task, best epoch on
# test): MT round robin, MTL loss sum, optimized single-task, in points
PAPER_TABLE2 = {"medrqe": {"round_robin": 76.5, "loss_sum": 77.5, SINGLE_TASK: 80.1},
                "quaero-2014": {"round_robin": 49.1, "loss_sum": 52.2, SINGLE_TASK: 55.5}}
COLUMNS = (("round_robin", "MT round robin"), ("loss_sum", "MTL loss sum"), (SINGLE_TASK, "single-task"))


def paper_comparison(rows: Sequence[Any], records: Sequence[Mapping[str, Any]]) -> str:
    """Ours beside the paper's, per corpus and column (ours − paper in points), and each column's mean training
    minutes per run (``train_seconds``; '–' where the records predate it). ``rows``: ``table2_rows`` output."""
    head = (["dataset"] + [f"{title}: ours / paper (Δ)" for _, title in COLUMNS]
            + ["training min per run (RR / LS / single)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        paper = PAPER_TABLE2.get(row.corpus, {})
        cells = [row.corpus]
        for column, _ in COLUMNS:
            mean = row.mean(column)
            ours = "–" if mean is None else f"{100 * mean:.1f}"
            theirs = paper.get(column)
            delta = f" ({100 * mean - theirs:+.1f})" if mean is not None and theirs is not None else ""
            cells.append(f"{ours} / {'–' if theirs is None else f'{theirs:.1f}'}{delta}")
        minutes = []
        for column, _ in COLUMNS:
            seconds = [r["metrics"]["train_seconds"] for r in records if r["schedule"] == column
                       and row.corpus in r["corpora"] and "train_seconds" in r["metrics"]]
            minutes.append(f"{sum(seconds) / len(seconds) / 60:.1f}" if seconds else "–")
        cells.append(" / ".join(minutes))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
