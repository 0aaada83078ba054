"""The paper's Table 2 from MLflow runs: per corpus (and per task derived from one: assertions, relations), each
multitask schedule against single-task fine-tuning.

Runs are told apart by their tags (set by :mod:`mtclin.tracking.runs`): ``mtclin.schedule`` (round_robin,
loss_sum, ... or single_task), ``mtclin.corpora`` and ``mtclin.selection``. A value is a run's
``test/<corpus>/<primary metric>``: the test score of the model selected on the selection split (dev by default;
test itself under the paper's protocol, which the table then says).
- Each column (a multitask schedule, or single-task per corpus) is the mean ± standard deviation over its runs
  (seeds), with the number of runs and their mean optimisation steps: comparing converged models needs both.
- Δ = round robin mean - single-task mean, in points (metrics x 100, as in the paper).
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from matplotlib.figure import Figure

from mtclin.corpora.registry import CORPORA, DERIVED, source_of
from mtclin.tasks import primary_metric_for
from mtclin.tracking import store
from mtclin.tracking.runs import CORPORA_TAG, PARENT_TAG, SCHEDULE_TAG, SELECTION_TAG, SINGLE_TASK

PAPER_ORDER = CORPORA  # the paper's Table 2 rows, from the corpus declarations; other corpora follow by name
MULTITASK = ("round_robin", "loss_sum")  # the paper's two multitask columns
SELECTION_NOTES = {
    "dev": "Model selection: best epoch on **dev**; test scored once for the selected model.",
    "paper": "Model selection: **paper protocol** (train+dev merged, best epoch chosen on TEST): optimistic, for "
             "comparison with the paper only.",
}


@dataclass
class Cell:
    """One column of one row: the test metric over runs (seeds)."""

    values: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def sd(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def mean_steps(self) -> float | None:
        return statistics.fmean(self.steps) if self.steps else None


@dataclass
class Row:
    corpus: str
    metric: str
    cells: dict[str, Cell] = field(default_factory=dict)  # column (schedule or single_task) -> cell

    def mean(self, column: str) -> float | None:
        cell = self.cells.get(column)
        return None if cell is None else cell.mean

    @property
    def delta(self) -> float | None:
        rr, single = self.mean("round_robin"), self.mean(SINGLE_TASK)
        return None if rr is None or single is None else rr - single

    def to_json(self) -> dict[str, Any]:
        cells = {k: asdict(c) | {"mean": c.mean, "sd": c.sd, "mean_steps": c.mean_steps} for k, c in self.cells.items()}
        return {"corpus": self.corpus, "metric": self.metric, "cells": cells, "delta": self.delta}


def _metric(run: Any, corpus: str, metric: str) -> float | None:
    value = run.data.metrics.get(f"test/{corpus}/{metric}")
    return None if value is None or math.isnan(value) else float(value)


def selections(runs: Iterable[Any]) -> set[str]:
    return {r.data.tags.get(SELECTION_TAG, "dev") for r in runs if r.data.tags.get(SCHEDULE_TAG)}


def row_order(tasks: Iterable[str]) -> list[str]:
    """Table 2's rows for ``tasks``: corpora in the paper's order, other corpora by name, each corpus followed by
    the tasks derived from it in declaration order (i2b2-2010, i2b2-2010-assertion, i2b2-2010-relations), also
    where the corpus itself has no row; all from the declarations."""
    tasks = set(tasks)
    sources = sorted({source_of(t) for t in tasks},
                     key=lambda c: (PAPER_ORDER.index(c), "") if c in PAPER_ORDER else (len(PAPER_ORDER), c))
    derived = DERIVED.names()
    return [t for c in sources for t in (c, *(d for d in derived if source_of(d) == c)) if t in tasks]


def table2_rows(runs: Iterable[Any], schedules: Sequence[str] = MULTITASK) -> list[Row]:
    """Table 2 rows from MLflow Run objects (others than tagged training runs are ignored). Runs of different
    selections are never mixed: raises ValueError if they are (build one table per selection)."""
    runs = [r for r in runs if r.data.tags.get(SCHEDULE_TAG) and r.data.tags.get(CORPORA_TAG)]
    if len(selections(runs)) > 1:
        raise ValueError(f"runs of several selections ({', '.join(sorted(selections(runs)))}): one table each")
    corpora = {c for r in runs for c in r.data.tags[CORPORA_TAG].split(",")}
    rows = []
    for corpus in row_order(corpora):
        row = Row(corpus, primary_metric_for(corpus))
        for column in (*schedules, SINGLE_TASK):
            cell = Cell()
            for run in runs:
                tags = run.data.tags
                covers = corpus in tags[CORPORA_TAG].split(",")
                if tags[SCHEDULE_TAG] == column and covers and (v := _metric(run, corpus, row.metric)) is not None:
                    cell.values.append(v)
                    if "steps" in run.data.metrics:
                        cell.steps.append(float(run.data.metrics["steps"]))
            row.cells[column] = cell
        rows.append(row)
    return rows


def _points(cell: Cell | None) -> str:
    if cell is None or cell.mean is None:
        return "–"
    return f"{100 * cell.mean:.1f}" + (f" ± {100 * cell.sd:.1f}" if cell.sd is not None else "")


def markdown(rows: Sequence[Row], schedules: Sequence[str] = MULTITASK, selection: str | None = None) -> str:
    """The table as markdown; values in points (x 100) as mean ± sd over runs, Δ signed, runs and mean steps per
    column; headed by how the models were selected when ``selection`` is given."""
    titles = {"round_robin": "MT round robin", "loss_sum": "MTL loss sum", SINGLE_TASK: "single-task"}
    columns = (*schedules, SINGLE_TASK)
    head = ["dataset", "metric"] + [titles.get(c, c) for c in columns] + ["Δ (RR − single)", "runs", "mean steps"]
    lines = ([SELECTION_NOTES.get(selection, f"Model selection: {selection}"), ""] if selection else [])
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        delta = "–" if row.delta is None else f"{100 * row.delta:+.1f}"
        cells = [row.corpus, row.metric] + [_points(row.cells.get(c)) for c in columns] + [delta]
        cells.append(" / ".join(str(len(row.cells[c].values)) if c in row.cells else "0" for c in columns))
        cells.append(" / ".join("–" if (m := row.cells[c].mean_steps if c in row.cells else None) is None
                                else f"{m:.0f}" for c in columns))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bar_chart(rows: Sequence[Row], schedules: Sequence[str] = MULTITASK) -> Figure:
    """Grouped bars per corpus: each schedule and single-task (means over runs), in points."""
    columns = list(schedules) + [SINGLE_TASK]
    fig = Figure(figsize=(max(6, 1.3 * len(rows) + 2), 4.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(columns)
    for k, column in enumerate(columns):
        xs = [i + (k - (len(columns) - 1) / 2) * width for i in range(len(rows))]
        ax.bar(xs, [100 * (r.mean(column) or 0.0) for r in rows], width, label=column)
    ax.set_xticks(range(len(rows)), [f"{r.corpus}\n({r.metric})" for r in rows], fontsize="small")
    ax.set_ylabel("score (x 100)")
    lowest = min([0.0] + [100 * m for r in rows for c in columns if (m := r.mean(c)) is not None])  # Pearson < 0
    ax.set_ylim(lowest, 100)
    ax.set_title("Multitask vs single-task, test (paper Table 2)")
    ax.legend(fontsize="small", loc="lower right", framealpha=0.9)
    return fig


def search_training_runs(experiments: Sequence[str] = (store.DEFAULT_EXPERIMENT,), uri: str | None = None,
                         parent: str | None = None) -> list[Any]:
    """FINISHED runs carrying ``mtclin.schedule`` in ``experiments``; only the children of ``parent`` if given."""
    client = store.client(uri)
    ids = [e.experiment_id for name in experiments if (e := client.get_experiment_by_name(name)) is not None]
    if not ids:
        return []
    query = "attributes.status = 'FINISHED'"
    if parent:
        query += f" and tags.`{PARENT_TAG}` = '{parent}'"
    found = client.search_runs(ids, filter_string=query, max_results=5000)
    return [r for r in found if r.data.tags.get(SCHEDULE_TAG)]


def log_table2(run_id: str, runs: Iterable[Any], uri: str | None = None,
               schedules: Sequence[str] = MULTITASK) -> list[Row]:
    """Build Table 2 from ``runs`` and log ``table2/table2.md``, ``table2.png`` and ``table2.json`` to run
    ``run_id``. Returns the rows."""
    runs = list(runs)
    rows = table2_rows(runs, schedules)
    selection = next(iter(selections(runs)), None)
    client = store.client(uri)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "table2.md").write_text(markdown(rows, schedules, selection), encoding="utf-8")
        (out / "table2.json").write_text(json.dumps({"selection": selection, "rows": [r.to_json() for r in rows]},
                                                    indent=2) + "\n")
        bar_chart(rows, schedules).savefig(out / "table2.png", dpi=100)
        client.log_artifacts(run_id, tmp, "table2")
    return rows
