"""The MLflow server restarted in the middle of a `train-multitask/team` run: the run either resumes (its client
retries) and registers a complete model, or fails with a message; `candidate` never points at an incomplete
model."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from mtclin.tracking.registry import check_artifacts
from tests.team.conftest import Stack, tiny_params

MODEL = "mt-clinical-bert"


def running_mlflow_run(stack: Stack, flow_run_id: str, timeout: float = 400) -> str:
    """The MLflow run id the flow logs once it has started its run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"MLflow run (\w+); run directory runs/(\S+)", stack.logs(flow_run_id))
        if found:
            return found.group(1)
        if stack.flow_run(flow_run_id)["state_type"] in ("FAILED", "CRASHED", "COMPLETED"):
            break
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} never started its MLflow run: {stack.logs(flow_run_id)[-2000:]}")


def model_dir(root: Path, run_key: str) -> Path:
    return next(p.parent for p in (root / "runs" / run_key).rglob("tasks.json") if p.parent.name == "model")


@pytest.mark.slow
def test_tracking_server_restart_mid_run_leaves_no_candidate_on_an_incomplete_model(team: Stack, trained,
                                                                                     tiny) -> None:
    with team.mlflow_as("admin") as client:
        candidate_before = client.get_model_version_by_alias(MODEL, "candidate").version
    flow_run_id = team.run_deployment("train-multitask/team", tiny_params(tiny[1], seed=3, fresh=True))
    mlflow_run = running_mlflow_run(team, flow_run_id)

    stopped = team.stop("mlflow-server")
    assert stopped.returncode == 0, stopped.stderr
    time.sleep(2)
    team.serve("mlflow-server")
    final = team.wait(flow_run_id, timeout=600)

    with team.mlflow_as("admin") as client:
        candidate = client.get_model_version_by_alias(MODEL, "candidate")
        mine = client.search_model_versions(f"name='{MODEL}' and run_id='{mlflow_run}'")
        for version in mine:  # whatever exists of this run is whole
            assert version.status == "READY"
            check_artifacts(client, version.source.removeprefix("models:/"),
                            model_dir(team.root, version.tags["mtclin.run_key"]))
    if final["state_type"] == "COMPLETED":  # resumed: the client retried until the server was back
        assert [v.version for v in mine] == [candidate.version]
    else:  # failed clearly: a message, and candidate still where it was
        assert final["state"]["message"], final
        assert candidate.version == candidate_before and not mine
