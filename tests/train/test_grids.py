"""The comparison flows' run grids, read without running them."""

from __future__ import annotations

from mtclin.train.config import TrainConfig
from mtclin.train.grids import baseline_grid, curve_grid


def test_baseline_grid_single_task_runs_keep_only_their_corpus_settings():
    base = TrainConfig(corpora=("quaero-2014", "medrqe"), ner_heads={"quaero-2014": "span"},
                       max_span_widths={"quaero-2014": 8})
    grid = dict(baseline_grid(base, [0, 1], ["round_robin", "loss_sum"], {"loss_sum": [0]}))
    assert list(grid) == ["quaero-2014-seed0", "quaero-2014-seed1", "medrqe-seed0", "medrqe-seed1",
                          "round_robin-seed0", "loss_sum-seed0"]
    assert grid["medrqe-seed1"].corpora == ("medrqe",) and grid["medrqe-seed1"].seed == 1
    assert grid["medrqe-seed0"].ner_heads == {} and grid["medrqe-seed0"].max_span_widths == {}
    assert grid["quaero-2014-seed0"].max_span_widths == {"quaero-2014": 8}
    assert grid["loss_sum-seed0"].schedule == "loss_sum" and grid["loss_sum-seed0"].corpora == base.corpora
    assert grid["round_robin-seed0"].ner_heads == {"quaero-2014": "span"}


def test_baseline_grid_without_single_task_seeds_is_the_multitask_runs_only():
    base = TrainConfig(corpora=("quaero-2014", "medrqe"))
    assert [label for label, _ in baseline_grid(base, [], ["round_robin"], {"round_robin": [2]})] == \
        ["round_robin-seed2"]


def test_curve_grid_starts_from_the_encoder_and_from_init():
    base = TrainConfig(corpora=("quaero-2014",))
    grid = curve_grid(base, [0.05, 1.0], [0], "models:/m/3")
    assert [label for label, _ in grid] == ["encoder-5pct-seed0", "encoder-100pct-seed0", "init-5pct-seed0",
                                            "init-100pct-seed0"]
    assert [(c.train_fraction, c.init) for _, c in grid] == [(0.05, ""), (1.0, ""), (0.05, "models:/m/3"),
                                                              (1.0, "models:/m/3")]
