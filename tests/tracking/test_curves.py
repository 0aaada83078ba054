"""Learning-curve points from runs: grouped by start (encoder / init) and train share, mean ± sd over seeds."""

from __future__ import annotations

import pytest

from mtclin.tracking.curves import curve_points, figure, markdown


class Run:
    def __init__(self, fraction: str, value: float, init: str = "", steps: float = 10.0, corpus: str = "medrqe"):
        tags = {"mtclin.corpora": corpus, "mtclin.train_fraction": fraction} | ({"mtclin.init": init} if init else {})
        self.data = type("D", (), {"tags": tags, "metrics": {"test/medrqe/accuracy": value, "steps": steps}})()


def test_points_table_and_figure() -> None:
    runs = [Run("0.1", 0.60), Run("0.1", 0.64), Run("1.0", 0.80), Run("0.1", 0.70, "models:/m/1"),
            Run("1.0", 0.81, "models:/m/1"), Run("1.0", 0.99, corpus="quaero-2014")]
    points = curve_points(runs, "medrqe")
    assert [(p.start, p.fraction, sorted(p.values)) for p in points] == [
        ("encoder", 0.1, [0.60, 0.64]), ("encoder", 1.0, [0.80]), ("init", 0.1, [0.70]), ("init", 1.0, [0.81])]
    assert points[0].mean == pytest.approx(0.62) and points[0].sd == pytest.approx(0.0282843, abs=1e-6)
    table = markdown(points, "medrqe", "models:/m/1").splitlines()
    assert "| 10 % | 62.0 ± 2.8 | 70.0 | +8.0 | 2 / 1 |" in table
    assert "| 100 % | 80.0 | 81.0 | +1.0 | 1 / 1 |" in table
    assert len(figure(points, "medrqe").axes[0].lines) >= 2
