"""The run grids of the comparison flows, as (label, config) lists: pure expansions of one base config, so a flow
only runs what it is given (and a test can read a grid without running it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from mtclin.train.config import TrainConfig

STARTS = ("encoder", "init")  # a learning curve's two starting points: the plain encoder, a trained model's


def baseline_grid(base: TrainConfig, seeds: Sequence[int], schedules: Sequence[str],
                  multitask_seeds: Mapping[str, Sequence[int]] = {}) -> list[tuple[str, TrainConfig]]:
    """Single-task per corpus x seed (each with its own corpus's per-task settings only, so its run key does not
    depend on the others'), then each multitask schedule x its seeds (default: the first seed)."""
    grid = [(f"{corpus}-seed{seed}", replace(base.on_corpora((corpus,)), seed=seed))
            for corpus in base.corpora for seed in seeds]
    grid += [(f"{schedule}-seed{seed}", replace(base, schedule=schedule, seed=seed))
             for schedule in schedules for seed in multitask_seeds.get(schedule, list(seeds)[:1])]
    return grid


def curve_grid(base: TrainConfig, fractions: Sequence[float], seeds: Sequence[int],
               init: str) -> list[tuple[str, TrainConfig]]:
    """Each start x train share x seed; the runs from ``init`` (a pinned model reference) carry it in ``init``."""
    return [(f"{start}-{100 * fraction:g}pct-seed{seed}",
             replace(base, train_fraction=fraction, seed=seed, init=init if start == "init" else ""))
            for start in STARTS for fraction in fractions for seed in seeds]
