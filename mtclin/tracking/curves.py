"""Learning curves from MLflow runs: a corpus's test metric against the share of its train split used, from the
plain encoder and from a trained (multitask) model's encoder, mean ± sd over seeds.

Runs are told apart by their tags: ``mtclin.train_fraction`` and ``mtclin.init`` (absent: the plain encoder).
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from matplotlib.figure import Figure

from mtclin.tasks import primary_metric_for
from mtclin.tracking import store
from mtclin.tracking.runs import CORPORA_TAG, FRACTION_TAG, INIT_TAG

STARTS = ("encoder", "init")  # column order: the plain encoder, then the trained model's


@dataclass
class Point:
    start: str  # "encoder" | "init"
    fraction: float
    values: list[float] = field(default_factory=list)  # test primary metric per seed
    steps: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None


def curve_points(runs: Iterable[Any], corpus: str) -> list[Point]:
    """One point per (start, fraction) from finished runs of ``corpus`` alone, sorted."""
    metric = primary_metric_for(corpus)
    points: dict[tuple[str, float], Point] = {}
    for run in runs:
        tags, metrics = run.data.tags, run.data.metrics
        value = metrics.get(f"test/{corpus}/{metric}")
        if tags.get(CORPORA_TAG) != corpus or value is None or math.isnan(value):
            continue
        key = ("init" if tags.get(INIT_TAG) else "encoder", float(tags.get(FRACTION_TAG, "1.0")))
        point = points.setdefault(key, Point(*key))
        point.values.append(float(value))
        if "steps" in metrics:
            point.steps.append(float(metrics["steps"]))
    return sorted(points.values(), key=lambda p: (STARTS.index(p.start), p.fraction))


def markdown(points: list[Point], corpus: str, init: str) -> str:
    """Fractions as rows, the two starts as columns (points x 100, mean ± sd), and the difference."""
    metric = primary_metric_for(corpus)
    by = {(p.start, p.fraction): p for p in points}
    lines = [f"{corpus}, test {metric} (x 100) by share of its train split; init = {init}", "",
             "| train share | from the encoder | from init | Δ (init − encoder) | seeds |", "|---|---|---|---|---|"]

    def cell(p: Point | None) -> str:
        return "–" if p is None else f"{100 * p.mean:.1f}" + (f" ± {100 * p.sd:.1f}" if p.sd is not None else "")

    for fraction in sorted({p.fraction for p in points}):
        plain, init_point = by.get(("encoder", fraction)), by.get(("init", fraction))
        delta = "–" if plain is None or init_point is None else f"{100 * (init_point.mean - plain.mean):+.1f}"
        seeds = " / ".join(str(len(p.values)) if p else "0" for p in (plain, init_point))
        lines.append(f"| {100 * fraction:g} % | {cell(plain)} | {cell(init_point)} | {delta} | {seeds} |")
    return "\n".join(lines) + "\n"


def figure(points: list[Point], corpus: str) -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for start in STARTS:
        mine = [p for p in points if p.start == start]
        if mine:
            ax.errorbar([100 * p.fraction for p in mine], [100 * p.mean for p in mine],
                        yerr=[100 * (p.sd or 0.0) for p in mine], marker="o", capsize=3,
                        label={"encoder": "from the encoder", "init": "from the trained model"}[start])
    ax.set_xscale("log")
    ax.set_xlabel("share of the train split (%)")
    ax.set_ylabel(f"test {primary_metric_for(corpus)} (x 100)")
    ax.set_title(f"Learning curve: {corpus}")
    ax.legend()
    return fig


def log_curve(run_id: str, runs: Iterable[Any], corpus: str, init: str, uri: str | None = None) -> list[Point]:
    """Log ``curve/curve.md``, ``curve.png`` and ``curve.json`` to run ``run_id``; returns the points."""
    points = curve_points(runs, corpus)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "curve.md").write_text(markdown(points, corpus, init), encoding="utf-8")
        (out / "curve.json").write_text(json.dumps([p.__dict__ | {"mean": p.mean, "sd": p.sd} for p in points],
                                                   indent=2) + "\n")
        figure(points, corpus).savefig(out / "curve.png", dpi=100)
        store.client(uri).log_artifacts(run_id, tmp, "curve")
    return points
