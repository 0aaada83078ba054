from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from mtclin.tracking import pyfunc, registry, runs, store
from tests.tracking import sqlite_uri, toy_config
from tests.toy_tasks import write_toy_processed

NAME = "mt-clinical-bert"


@pytest.fixture(scope="module")
def registered(tiny: tuple[Any, Path], tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("registered")
    config = toy_config(tmp, tiny[1], write_toy_processed(tmp / "processed"))
    uri = sqlite_uri(tmp)
    done = runs.track_training(config, uri=uri, register=True, system_metrics=False, root=tmp)
    return done, uri


def test_new_version_is_ready_with_alias_candidate_and_metric_tags(registered) -> None:
    done, uri = registered
    client = store.client(uri)
    version = client.get_model_version_by_alias(NAME, registry.CANDIDATE)
    assert str(version.version) == str(done.model_version.version) == "1"
    assert version.status == "READY" and version.run_id == done.run_id
    best = done.result.test["metrics"]  # the selected model's test scores
    assert registry.version_metrics(version.tags) == {
        "n2c2-2018": ("f1", pytest.approx(best["n2c2-2018"]["f1"])),
        "medrqe": ("accuracy", pytest.approx(best["medrqe"]["accuracy"])),
        "n2c2-2019": ("pearson", pytest.approx(best["n2c2-2019"]["pearson"]))}
    assert version.tags["mtclin.schedule"] == "round_robin"


def test_pyfunc_answers_text_and_pair_rows_with_every_task(registered) -> None:
    _, uri = registered
    with store.using(uri):
        model = mlflow.pyfunc.load_model(f"models:/{NAME}@{registry.CANDIDATE}")
    rows = pd.DataFrame([{"id": "1", "text": "patient takes aspirin 81 mg daily ."},
                         {"id": "2", "a": "does aspirin cause bleeding ?", "b": "how is chest pain treated ?"}])
    text, pair = model.predict(rows)
    assert text["id"] == "1" and set(text["entities"]) == {"n2c2-2018"}
    assert all({"start", "end", "type", "score"} <= set(e) for e in text["entities"]["n2c2-2018"])
    assert pair["id"] == "2" and set(pair["pair"]) == {"medrqe", "n2c2-2019"}
    assert pair["pair"]["medrqe"]["label"] in ("true", "false")
    assert 0.0 <= pair["pair"]["n2c2-2019"]["score"] <= 5.0
    # a list of dicts works as well, and a row with neither shape is refused by its position
    assert model.predict([{"text": "aspirin"}])[0]["entities"].keys() == {"n2c2-2018"}
    with pytest.raises(ValueError, match=r"row 1: expected a \"text\" value"):
        pyfunc.to_records([{"text": "x"}, {"a": "only a"}])


def test_scoring_server_returns_json_predictions(registered) -> None:
    from fastapi.testclient import TestClient
    from mlflow.pyfunc import scoring_server

    _, uri = registered
    with store.using(uri):
        model = mlflow.pyfunc.load_model(f"models:/{NAME}@{registry.CANDIDATE}")
    app = scoring_server.init(model)
    body = {"dataframe_records": [{"text": "aspirin daily ."}, {"a": "fever ?", "b": "cough ?"}]}
    response = TestClient(app).post("/invocations", json=body)
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert set(predictions[0]["entities"]) == {"n2c2-2018"} and set(predictions[1]["pair"]) == {"medrqe", "n2c2-2019"}


def test_the_logged_model_holds_no_pickle_and_only_the_synthetic_example(registered) -> None:
    _, uri = registered
    client = store.client(uri)
    version = client.get_model_version_by_alias(NAME, registry.CANDIDATE)
    root = Path(client.get_logged_model(version.source.removeprefix("models:/")).artifact_location
                .removeprefix("file://"))
    assert not list(root.rglob("*.pkl"))
    example = json.loads((root / "input_example.json").read_text())
    assert pyfunc.EXAMPLE_TEXT in json.dumps(example)
    assert sorted(p.name for p in (root / "artifacts" / "model").iterdir()) == [
        "encoder", "heads.safetensors", "tasks.json", "tokenizer"]


def test_a_broken_model_gets_no_alias_and_no_version(registered, tmp_path: Path) -> None:
    done, uri = registered
    client = store.client(uri)
    broken = tmp_path / "model"
    shutil.copytree(done.result.model_dir, broken)
    size = (broken / "heads.safetensors").stat().st_size
    (broken / "heads.safetensors").write_bytes(b"\0" * size)  # same size, unreadable
    primary = {"medrqe": ("accuracy", 1.0)}
    logged_before = len(client.search_logged_models([client.get_run(done.run_id).info.experiment_id]))
    # the ONNX export loads the weights first: it fails before anything is logged
    with pytest.raises(registry.RegistrationError, match="ONNX export failed.*deserializing header"):
        registry.log_and_register(done.run_id, broken, primary, NAME, uri)
    assert len(client.search_logged_models([client.get_run(done.run_id).info.experiment_id])) == logged_before
    with pytest.raises(Exception, match="deserializing header"):  # without it: the load check before the alias
        registry.log_and_register(done.run_id, broken, primary, NAME, uri, onnx=False)
    # version 2 was created, failed its load check and was deleted; the logged model is marked as failed
    [orphan] = [m for m in client.search_logged_models([client.get_run(done.run_id).info.experiment_id])
                if m.tags.get("mtclin.registration") == "failed"]
    assert orphan.source_run_id == done.run_id
    assert str(client.get_model_version_by_alias(NAME, registry.CANDIDATE).version) == "1"
    assert [str(v.version) for v in client.search_model_versions(f"name='{NAME}'")] == ["1"]
    with pytest.raises(registry.RegistrationError, match="not a saved mtclin model"):
        registry.log_and_register(done.run_id, tmp_path / "nothing", primary, NAME, uri)


def test_resolve_by_number_or_alias(registered) -> None:
    _, uri = registered
    client = store.client(uri)
    assert str(registry.resolve_version(client, NAME, 1).version) == "1"
    assert str(registry.resolve_version(client, NAME, "candidate").version) == "1"
    with pytest.raises(MlflowException):
        registry.resolve_version(client, NAME, "production")


def test_requests_without_the_expected_columns_are_refused() -> None:
    with pytest.raises(ValueError, match=r'expected a "text" column, or "a" and "b" columns'):
        pyfunc.to_records(pd.DataFrame({"x": ["fever"]}))
    assert pyfunc.to_records({"text": "fever", "extra": 1}) == [{"text": "fever"}]
