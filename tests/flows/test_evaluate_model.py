"""Flow `evaluate-model`: any model on a release or on the project's processed data, logged and linked to its
version; re-scoring production on new data is what lets the promotion gate compare again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.evaluate_model import evaluate_model
from flows.promote import promote_model
from flows.train_multitask import train_multitask
from mtclin.tracking import store
from mtclin.tracking.promotion import PromotionRefused
from mtclin.tracking.registry import PRODUCTION, version_metrics

NAME = "mt-clinical-bert"
CORPORA = ["medrqe", "i2b2-2010"]


def train(project: Path, model_dir: Path, **changes) -> dict:
    return train_multitask(**(dict(project_dir=str(project), encoder=str(model_dir), corpora=CORPORA, epochs=1,
                                   ner_batch_size=8, pair_batch_size=8, learning_rate=1e-3) | changes))


@pytest.mark.slow
def test_evaluate_registered_model_on_processed_data_and_on_a_release(prefect_harness, project: Path, tiny):
    _, model_dir = tiny
    trained = train(project, model_dir)
    client = store.client(store.tracking_uri(project))

    on_processed = evaluate_model(model=f"models:/{NAME}@candidate", project_dir=str(project))
    assert on_processed["model_version"] == trained["version"] == "1"
    for corpus in CORPORA:  # the same model on the same test split as training scored it
        assert on_processed["metrics"][corpus] == pytest.approx(trained["metrics"][corpus])
    run = client.get_run(on_processed["run_id"])
    assert run.data.tags["mtclin.kind"] == "evaluation" and run.data.tags["mtclin.model_version"] == "1"
    assert run.data.metrics["eval/medrqe/accuracy"] == pytest.approx(trained["metrics"]["medrqe"]["accuracy"])
    assert run.data.tags["mtclin.data.medrqe"]  # which processed data it scored
    version = client.get_model_version(NAME, "1")
    assert version.tags["mtclin.evaluation.medrqe.test"] == on_processed["run_id"]

    on_release = evaluate_model(model=trained["run_dir"] + "/model", corpus="medrqe",
                                data_dir=str(project / "data" / "medrqe"), project_dir=str(project))
    assert on_release["model_version"] is None
    assert on_release["metrics"]["medrqe"] == pytest.approx(trained["metrics"]["medrqe"])
    assert client.get_run(on_release["run_id"]).data.tags["mtclin.eval.source"] == "release"


@pytest.mark.slow
def test_gate_refuses_scores_on_other_data_until_production_is_rescored(prefect_harness, project: Path, tiny):
    _, model_dir = tiny
    client = store.client(store.tracking_uri(project))
    train(project, model_dir)
    assert promote_model(project_dir=str(project))["accepted"]
    # the processed data change (another segment length): the new candidate is scored on other test tables
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["preprocess"]["i2b2-2010"] = {"max_words": 64}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    second = train(project, model_dir)
    state = promote_model(project_dir=str(project), tolerance=1.0, return_state=True)
    assert state.is_failed() and "not comparable (i2b2-2010: scored on other processed data" in state.message
    with pytest.raises(PromotionRefused):
        state.result()
    assert str(client.get_model_version_by_alias(NAME, PRODUCTION).version) == "1"

    rescored = evaluate_model(model=f"models:/{NAME}@{PRODUCTION}", record_on_version=True,
                              project_dir=str(project))
    production = client.get_model_version(NAME, "1")
    assert production.tags["mtclin.rescored_by"] == rescored["run_id"]
    assert version_metrics(production.tags)["i2b2-2010"] == ("f1", pytest.approx(rescored["metrics"]["i2b2-2010"]["f1"]))
    assert production.tags["mtclin.data.i2b2-2010"] == client.get_model_version(NAME, second["version"]).tags[
        "mtclin.data.i2b2-2010"]
    decision = promote_model(project_dir=str(project), tolerance=1.0)
    assert decision["accepted"] and decision["version"] == second["version"]
