"""Two `train-multitask/team` runs at once with different parameters, and `promote-model/team` started the moment
the first of them registers: all complete, each registers its own version, the aliases end consistent, and the
gate compared the version it promoted against the production version it replaced."""

from __future__ import annotations

import time

import pytest

from tests.team.conftest import Stack, tiny_params

MODEL = "mt-clinical-bert"


def versions(client) -> dict[str, object]:
    return {v.version: v for v in client.search_model_versions(f"name='{MODEL}'")}


@pytest.mark.slow
def test_concurrent_runs_and_a_racing_promotion_stay_consistent(team: Stack, trained, tiny) -> None:
    with team.mlflow_as("admin") as client:
        before = versions(client)
        production_before = client.get_model_version_by_alias(MODEL, "production").version
    runs = [team.run_deployment("train-multitask/team", tiny_params(tiny[1], seed=1)),
            team.run_deployment("train-multitask/team", tiny_params(tiny[1], seed=2, schedule="loss_sum"))]

    promotion = None
    deadline = time.monotonic() + 600
    while promotion is None and time.monotonic() < deadline:
        with team.mlflow_as("admin") as client:
            if set(versions(client)) - set(before):  # a registration landed; the other is still on its way
                promotion = team.run_deployment("promote-model/team", {"tolerance": 1.0})
                break
        if all(team.flow_run(r)["state_type"] in ("COMPLETED", "FAILED", "CRASHED") for r in runs):
            break
        time.sleep(1)
    assert promotion is not None, [team.flow_run(r)["state"] for r in runs]

    finished = [team.wait(r, timeout=600) for r in runs] + [team.wait(promotion, timeout=300)]
    for run in finished:
        assert run["state_type"] == "COMPLETED", (run["name"], run["state"]["message"], team.logs(run["id"])[-2000:])

    with team.mlflow_as("admin") as client:
        new = {k: v for k, v in versions(client).items() if k not in before}
        assert len(new) == 2, f"expected one new version per run, got {sorted(new)}"
        assert len({v.run_id for v in new.values()}) == 2 and len({v.tags["mtclin.run_key"] for v in new.values()}) == 2
        assert all(v.status == "READY" for v in new.values())
        candidate = client.get_model_version_by_alias(MODEL, "candidate")
        production = client.get_model_version_by_alias(MODEL, "production")
        previous = client.get_model_version_by_alias(MODEL, "previous_production")
        compared = client.get_model_version(MODEL, production_before)
    assert candidate.version in new and production.version in new
    # the gate's record on the version it promoted names the production version it replaced ...
    assert production.tags["promotion.decision"] == "accepted"
    assert production.tags["promotion.compared_to"] == production_before == previous.version
    # ... and its deltas are exactly candidate minus that version, task by task
    deltas = {k[len("promotion.delta."):]: float(v) for k, v in production.tags.items()
              if k.startswith("promotion.delta.")}
    assert deltas
    for task, delta in deltas.items():
        mine = next(float(v) for k, v in production.tags.items() if k.startswith(f"metric.{task}."))
        theirs = next(float(v) for k, v in compared.tags.items() if k.startswith(f"metric.{task}."))
        assert abs(delta - (mine - theirs)) < 1e-5, task
