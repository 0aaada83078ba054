"""The flows' gates: bad data stops training before it starts; a regressed model is refused promotion."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from flows.promote import promote_model
from flows.train_multitask import train_multitask
from mtclin.corpora.samples.common import CANARY
from mtclin.tracking import store
from mtclin.tracking.promotion import PromotionRefused
from mtclin.tracking.registry import CANDIDATE, PRODUCTION, metric_tags
from tests.scratch import run


def _dvc(project: Path, *args: str) -> None:
    run([sys.executable, "-m", "dvc", *args], project)


@pytest.mark.slow
def test_validation_gate_stops_the_flow_and_reports_no_text(prefect_harness, project: Path, tiny, capfd):
    from prefect.client.orchestration import get_client

    _, model_dir = tiny
    _dvc(project, "repro")
    # a bad processed set gets committed as the stage's output (so DVC does not rebuild it)
    path = project / "processed" / "mednli" / "train.parquet"
    table = pl.read_parquet(path)
    bad = table.head(5).with_columns(pl.lit("maybe").alias("label"), pl.lit(f"{CANARY} says").alias("a"))
    pl.concat([table, bad]).write_parquet(path)
    _dvc(project, "commit", "-f", "preprocess@mednli")

    state = train_multitask(project_dir=str(project), encoder=str(model_dir), epochs=1, return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert "mednli/train" in message and "5 of" in message
    assert CANARY not in message
    # stopped before any training: no run directory with checkpoints, no MLflow run
    assert not list((project / "runs").glob("*/checkpoints"))
    client = store.client(store.tracking_uri(project))
    experiment = client.get_experiment_by_name("mt-clinical-bert")
    assert experiment is None or not client.search_runs([experiment.experiment_id])
    # nothing written by validation or logged by Prefect holds the planted text
    for file in (project / "runs").rglob("*"):
        if file.is_file():
            assert CANARY.encode() not in file.read_bytes(), file
    import anyio

    async def logs() -> list[str]:
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        async with get_client() as client:
            found = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))
            return [log.message for log in found]

    messages = anyio.run(logs)
    assert messages and not [m for m in messages if CANARY in m]
    assert CANARY not in capfd.readouterr().out


@pytest.mark.slow
def test_promotion_flow_refuses_a_regression_and_accepts_an_improvement(prefect_harness, project: Path):
    client = store.client(store.tracking_uri(project))
    name = "mt-clinical-bert"
    client.create_registered_model(name)

    def candidate(f1: float, accuracy: float) -> str:
        tags = metric_tags({"i2b2-2010": ("f1", f1), "medrqe": ("accuracy", accuracy)})
        tags |= {"mtclin.data.i2b2-2010": "md5-a", "mtclin.data.medrqe": "md5-b"}  # scored on the same data
        version = client.create_model_version(name, str(project), tags=tags)
        client.set_registered_model_alias(name, CANDIDATE, version.version)
        return str(version.version)

    v1 = candidate(0.80, 0.70)
    assert promote_model(project_dir=str(project))["accepted"]
    assert str(client.get_model_version_by_alias(name, PRODUCTION).version) == v1

    v2 = candidate(0.70, 0.71)  # i2b2-2010 drops by 0.10
    state = promote_model(project_dir=str(project), tolerance=0.01, return_state=True)
    assert state.is_failed() and "i2b2-2010" in (state.message or "")
    with pytest.raises(PromotionRefused):
        state.result()
    assert str(client.get_model_version_by_alias(name, PRODUCTION).version) == v1
    assert client.get_model_version(name, v2).tags["promotion.decision"] == "refused"

    v3 = candidate(0.81, 0.70)
    assert promote_model(project_dir=str(project), tolerance=0.01)["accepted"]
    assert str(client.get_model_version_by_alias(name, PRODUCTION).version) == v3
    assert client.get_model_version(name, v3).tags["promotion.decision"] == "accepted"
