"""The paper's Table 2 from MLflow runs: per corpus, each multitask schedule against the best single-task run.

Runs are told apart by their tags (set by :mod:`mtclin.tracking.runs`): ``mtclin.schedule`` (round_robin,
loss_sum, ... or single_task) and ``mtclin.corpora``; values are their ``best/<corpus>/<primary metric>`` metrics.
- A multitask schedule is one model: of its runs, the one with the highest ``best/score`` is reported for every
  corpus it covers (mixing seeds per corpus would describe no model that exists).
- Single-task fine-tuning is reported per corpus as the best run over seeds, as the paper did.
- Δ = round robin - best single-task, in points (metrics x 100, as in the paper).
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from matplotlib.figure import Figure

from mtclin.tasks import task_for_corpus
from mtclin.tracking import store
from mtclin.tracking.runs import CORPORA_TAG, PARENT_TAG, SCHEDULE_TAG, SINGLE_TASK

PAPER_ORDER = ("n2c2-2019", "mednli", "medrqe", "n2c2-2018", "i2b2-2014", "i2b2-2012", "i2b2-2010", "quaero-2014")
MULTITASK = ("round_robin", "loss_sum")  # the paper's two multitask columns


@dataclass
class Row:
    corpus: str
    metric: str
    values: dict[str, float | None] = field(default_factory=dict)  # column (schedule or single_task) -> value
    single_task_runs: int = 0

    @property
    def delta(self) -> float | None:
        rr, single = self.values.get("round_robin"), self.values.get(SINGLE_TASK)
        return None if rr is None or single is None else rr - single


def _metric(run: Any, corpus: str, metric: str) -> float | None:
    value = run.data.metrics.get(f"best/{corpus}/{metric}")
    return None if value is None or math.isnan(value) else float(value)


def table2_rows(runs: Iterable[Any], schedules: Sequence[str] = MULTITASK) -> list[Row]:
    """Table 2 rows from MLflow Run objects (others than tagged training runs are ignored)."""
    runs = [r for r in runs if r.data.tags.get(SCHEDULE_TAG) and r.data.tags.get(CORPORA_TAG)]
    corpora = {c for r in runs for c in r.data.tags[CORPORA_TAG].split(",")}
    order = [c for c in PAPER_ORDER if c in corpora] + sorted(corpora - set(PAPER_ORDER))
    chosen = {}
    for schedule in schedules:
        of_schedule = [r for r in runs if r.data.tags[SCHEDULE_TAG] == schedule]
        if of_schedule:
            chosen[schedule] = max(of_schedule, key=lambda r: r.data.metrics.get("best/score", -math.inf))
    rows = []
    for corpus in order:
        metric = task_for_corpus(corpus).primary_metric
        row = Row(corpus, metric)
        for schedule in schedules:
            run = chosen.get(schedule)
            covers = run is not None and corpus in run.data.tags[CORPORA_TAG].split(",")
            row.values[schedule] = _metric(run, corpus, metric) if covers else None
        singles = [v for r in runs if r.data.tags[SCHEDULE_TAG] == SINGLE_TASK
                   and r.data.tags[CORPORA_TAG] == corpus and (v := _metric(r, corpus, metric)) is not None]
        row.values[SINGLE_TASK] = max(singles) if singles else None
        row.single_task_runs = len(singles)
        rows.append(row)
    return rows


def _points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(rows: Sequence[Row], schedules: Sequence[str] = MULTITASK) -> str:
    """The table as markdown; values in points (x 100), Δ signed."""
    titles = {"round_robin": "MT round robin", "loss_sum": "MTL loss sum"}
    head = ["dataset", "metric"] + [titles.get(s, s) for s in schedules] + ["best single-task", "Δ (RR − single)",
                                                                            "single-task runs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        delta = "–" if row.delta is None else f"{100 * row.delta:+.1f}"
        cells = [row.corpus, row.metric] + [_points(row.values.get(s)) for s in schedules]
        cells += [_points(row.values.get(SINGLE_TASK)), delta, str(row.single_task_runs)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bar_chart(rows: Sequence[Row], schedules: Sequence[str] = MULTITASK) -> Figure:
    """Grouped bars per corpus: each schedule and the best single-task run, in points."""
    columns = list(schedules) + [SINGLE_TASK]
    fig = Figure(figsize=(max(6, 1.3 * len(rows) + 2), 4.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(columns)
    for k, column in enumerate(columns):
        xs = [i + (k - (len(columns) - 1) / 2) * width for i in range(len(rows))]
        ax.bar(xs, [100 * (r.values.get(column) or 0.0) for r in rows], width, label=column)
    ax.set_xticks(range(len(rows)), [f"{r.corpus}\n({r.metric})" for r in rows], fontsize="small")
    ax.set_ylabel("score (x 100)")
    lowest = min([0.0] + [100 * v for r in rows for v in r.values.values() if v is not None])  # Pearson can be < 0
    ax.set_ylim(lowest, 100)
    ax.set_title("Multitask vs best single-task (paper Table 2)")
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
    rows = table2_rows(runs, schedules)
    client = store.client(uri)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "table2.md").write_text(markdown(rows, schedules), encoding="utf-8")
        (out / "table2.json").write_text(json.dumps([asdict(r) | {"delta": r.delta} for r in rows], indent=2) + "\n")
        bar_chart(rows, schedules).savefig(out / "table2.png", dpi=100)
        client.log_artifacts(run_id, tmp, "table2")
    return rows
