"""`make stop` (deploy/stop.sh) ends exactly what the team stack started, flow runs in their own sessions included,
and returns only once all of it has exited (tests/stack_checks.py). The local stack's stop is checked at the end of
tests/flows/test_deployment_server.py, after its deployment runs."""

from __future__ import annotations

import os
import time

import pytest

from tests.stack_checks import alive, stop_and_check
from tests.team.conftest import SERVICES, Stack, tiny_params


@pytest.mark.slow
def test_stop_ends_the_team_stack_with_a_flow_run_in_flight(team: Stack, trained, tiny) -> None:
    flow_run_id = team.run_deployment("train-multitask/team", tiny_params(tiny[1], seed=5, fresh=True))
    deadline = time.monotonic() + 300
    while team.flow_run(flow_run_id)["state_type"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(5)  # into the flow: its process (in a session of its own) has started work
    pids = set().union(*(team.service_pids(s) for s in SERVICES))
    workers = team.service_pids("prefect-worker")
    assert len(workers) > 1, "the flow run's process is not among the worker's"
    assert len({os.getsid(p) for p in workers if alive(p)}) > 1, "no flow run in a session of its own"
    stop_and_check(team.root, team.team_dir, team.env, pids, list(team.ports.values()))
