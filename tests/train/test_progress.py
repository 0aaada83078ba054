"""Progress lines for the run log: every N steps and at least every T seconds, numbers and task names only."""

from __future__ import annotations

from mtclin.train.progress import ProgressReporter


def test_lines_every_n_steps_and_after_a_quiet_minute() -> None:
    now = [0.0]
    lines: list[str] = []
    reporter = ProgressReporter(lines.append, total_steps=100, every_steps=10, every_seconds=60,
                                clock=lambda: now[0])
    reporter.start(0)
    for step in range(1, 11):
        now[0] += 1.0
        reporter.step(step, 0, ("medrqe",), {"medrqe": 0.5}, examples=40)
    assert lines == ["step 10/100 epoch 0 task medrqe loss 0.5000 40.0 examples/s ETA 1m30s"]
    now[0] += 61.0  # one slow step: written although step 11 is not a multiple of 10
    assert reporter.step(11, 1, ("medrqe", "quaero-2014"), {"medrqe": 1.0, "quaero-2014": 1.0}, examples=65)
    assert lines[-1] == "step 11/100 epoch 1 task medrqe,quaero-2014 loss 2.0000 1.1 examples/s ETA 1h30m"
    now[0] += 1.0
    assert not reporter.step(12, 1, ("medrqe",), {"medrqe": 0.5}, examples=40)
