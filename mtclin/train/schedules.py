"""Task schedules: which task(s) each optimisation step trains, for one epoch. Registered by name.

A plan is a list of steps; a step is a tuple of task names whose batches' losses are summed in that step.
- ``round_robin`` (paper, Algorithm 1): tasks take turns, one batch each; the epoch ends when the largest task has
  used all its batches (smaller tasks restart their data). Memory: one task's batch at a time.
- ``loss_sum``: every step takes one batch of every task and sums the losses (paper's MTL baseline).
- ``proportional``: each step samples one task with probability proportional to its number of batches.
- ``temperature``: like proportional with probability ∝ batches^(1/T) (T=1 proportional, T→∞ uniform).
For the sampled schedules, an epoch has as many steps as all tasks have batches together.
Plans are deterministic given (seed, epoch), so every DDP rank draws the same task at every step.
"""

from __future__ import annotations

import random
from typing import Callable, Mapping

from mtclin.registry import Registry

Plan = list[tuple[str, ...]]
SCHEDULES: Registry[Callable[..., Plan]] = Registry("schedule")  # name -> plan function (a read-only mapping)
register_schedule = SCHEDULES.register


@register_schedule("round_robin")
def round_robin(batches: Mapping[str, int], rng: random.Random, **_) -> Plan:
    rounds = max(batches.values())
    return [(task,) for _ in range(rounds) for task in batches]


@register_schedule("loss_sum")
def loss_sum(batches: Mapping[str, int], rng: random.Random, **_) -> Plan:
    return [tuple(batches)] * max(batches.values())


def _sampled(batches: Mapping[str, int], rng: random.Random, power: float) -> Plan:
    tasks = list(batches)
    weights = [batches[t] ** power for t in tasks]
    return [(task,) for task in rng.choices(tasks, weights=weights, k=sum(batches.values()))]


@register_schedule("proportional")
def proportional(batches: Mapping[str, int], rng: random.Random, **_) -> Plan:
    return _sampled(batches, rng, 1.0)


@register_schedule("temperature")
def temperature(batches: Mapping[str, int], rng: random.Random, temperature: float = 2.0, **_) -> Plan:
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return _sampled(batches, rng, 1.0 / temperature)


def plan_epoch(name: str, batches: Mapping[str, int], seed: int, epoch: int, temperature: float = 2.0) -> Plan:
    """The steps of epoch ``epoch`` (0-based) for tasks with the given number of batches per epoch."""
    schedule = SCHEDULES.get(name)  # KeyError naming the known schedules
    if not batches or min(batches.values()) <= 0:
        raise ValueError(f"every task needs at least one batch, got {dict(batches)}")
    return schedule(batches, random.Random(seed * 100_003 + epoch), temperature=temperature)
