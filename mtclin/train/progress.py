"""Progress lines for long training runs, for logs that outlive a terminal (the Prefect run log, a CI log).

A line is written every ``every_steps`` optimisation steps and, whatever the step rate, at least every
``every_seconds``: step / total, epoch, task(s), loss, examples/s and ETA. Lines carry numbers and task names
only, never data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


@dataclass
class ProgressReporter:
    """Call :meth:`step` after every optimisation step. ``total_steps``: the planned steps of the whole run
    (an upper bound where early stopping may end it sooner)."""

    log: Callable[[str], None]
    total_steps: int
    every_steps: int = 100
    every_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _last_time: float = field(init=False, default=0.0)
    _last_step: int = field(init=False, default=-1)
    _examples: int = field(init=False, default=0)
    _losses: list[float] = field(init=False, default_factory=list)

    def start(self, step: int) -> None:
        self._last_time, self._last_step = self.clock(), step

    def step(self, step: int, epoch: int, tasks: Sequence[str], losses: dict[str, float], examples: int) -> bool:
        """Account for one step; returns True when a line was written."""
        if self._last_step < 0:
            self.start(step - 1)
        self._examples += examples
        self._losses.append(sum(losses.values()))
        now = self.clock()
        if step % max(1, self.every_steps) and now - self._last_time < self.every_seconds:
            return False
        elapsed = max(now - self._last_time, 1e-9)
        steps_done = step - self._last_step
        rate = self._examples / elapsed
        left = max(0, self.total_steps - step) * elapsed / max(steps_done, 1)
        loss = sum(self._losses) / len(self._losses)
        self.log(f"step {step}/{self.total_steps} epoch {epoch} task {','.join(tasks)} loss {loss:.4f} "
                 f"{rate:.1f} examples/s ETA {_duration(left)}")
        self._last_time, self._last_step, self._examples, self._losses = now, step, 0, []
        return True
