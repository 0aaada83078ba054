"""Prefect retries only the tasks whose failures can be transient I/O: DVC's repo lock and the tracking server."""

from __future__ import annotations

from flows import baselines, promote, train_multitask


def test_only_io_tasks_retry():
    retrying = {t.name: t.retries for t in (train_multitask.preprocess, train_multitask.register)}
    assert all(retries and retries >= 1 for retries in retrying.values()), retrying
    # deterministic work is never retried: a retry would only repeat the same failure (or hide a real one)
    for task in (train_multitask.validate, train_multitask.train_model,
                 baselines.train_one, baselines.compare, promote.gate):
        assert not task.retries, f"{task.name} must not retry"


def test_a_broken_model_is_not_retried_but_a_network_error_is():
    from mtclin.tracking.registry import RegistrationError

    class State:
        def __init__(self, error: Exception):
            self.error = error

        def result(self):
            raise self.error

    condition = train_multitask.register.retry_condition_fn
    assert condition(None, None, State(ConnectionError("tracking server unreachable"))) is True
    assert condition(None, None, State(RegistrationError("version 3 failed its load check"))) is False
