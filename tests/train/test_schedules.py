from __future__ import annotations

from collections import Counter

import pytest

from mtclin.train.schedules import plan_epoch

BATCHES = {"big": 6, "mid": 3, "small": 1}


def test_round_robin_takes_turns_until_the_largest_task_is_exhausted():
    plan = plan_epoch("round_robin", BATCHES, seed=0, epoch=0)
    assert plan[:3] == [("big",), ("mid",), ("small",)]
    assert len(plan) == 3 * 6  # smaller tasks restart (their streams cycle) until "big" used its 6 batches
    assert Counter(t for step in plan for t in step) == {"big": 6, "mid": 6, "small": 6}
    assert all(plan[i][0] != plan[i + 1][0] for i in range(len(plan) - 1))


def test_loss_sum_trains_every_task_every_step():
    plan = plan_epoch("loss_sum", BATCHES, seed=0, epoch=0)
    assert plan == [("big", "mid", "small")] * 6


def test_proportional_sampling_follows_task_sizes():
    sizes = {"big": 900, "small": 100}
    plan = plan_epoch("proportional", sizes, seed=1, epoch=0)
    assert len(plan) == 1000
    share = Counter(step[0] for step in plan)["big"] / len(plan)
    assert 0.86 < share < 0.94


def test_temperature_flattens_the_distribution():
    sizes = {"big": 900, "small": 100}
    plan = plan_epoch("temperature", sizes, seed=1, epoch=0, temperature=1e6)  # ~uniform
    share = Counter(step[0] for step in plan)["big"] / len(plan)
    assert 0.45 < share < 0.55
    plan_t2 = plan_epoch("temperature", sizes, seed=1, epoch=0, temperature=2.0)  # 30:10 -> 0.75
    share_t2 = Counter(step[0] for step in plan_t2)["big"] / len(plan_t2)
    assert 0.70 < share_t2 < 0.80


def test_plans_are_deterministic_per_seed_and_epoch():
    a = plan_epoch("proportional", BATCHES, seed=3, epoch=2)
    assert a == plan_epoch("proportional", BATCHES, seed=3, epoch=2)
    assert a != plan_epoch("proportional", BATCHES, seed=3, epoch=3)


def test_unknown_schedule_and_empty_task_are_errors():
    with pytest.raises(KeyError, match="round_robin"):
        plan_epoch("nope", BATCHES, seed=0, epoch=0)
    with pytest.raises(ValueError, match="at least one batch"):
        plan_epoch("round_robin", {"a": 0}, seed=0, epoch=0)
