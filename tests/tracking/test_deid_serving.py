"""De-identification through the registered pyfunc: MLflow params ``{"deid": true}`` on text rows, through
``mlflow.pyfunc.load_model``, MLflow's scoring app, a real ``mlflow models serve`` and ``mtclin deid --model
models:/...``; the same objects everywhere. The model's PHI head tags every word (tests/phi_model.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
import pytest

from mtclin.cli import main
from mtclin.tracking import pyfunc, registry, store
from tests.phi_model import save_phi_model
from tests.scratch import mlflow_models_serve
from tests.tracking import sqlite_uri

NAME = "mt-clinical-bert"
CANARY = "Zqvcanarywx"
ROWS = [{"id": "1", "text": f"Lee saw {CANARY} ; Lee ."}, {"text": "fever"}]
EXPECTED = ["[DATE] [DATE] [DATE] [DATE] [DATE] [DATE]", "[DATE]"]
SURROGATES = ["[DATE-1] [DATE-2] [DATE-3] [DATE-4] [DATE-1] [DATE-5]", "[DATE-1]"]


@pytest.fixture(scope="module")
def registered(tiny: tuple[Any, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("deid-serving")
    model = save_phi_model(tiny[1], tmp / "model")
    uri = sqlite_uri(tmp)
    run = store.client(uri).create_run(store.ensure_experiment("deid", uri))
    registry.log_and_register(run.info.run_id, model, {"i2b2-2014": ("f1", 0.0), "medrqe": ("accuracy", 0.5)},
                              NAME, uri, onnx=False)
    return uri, tmp


def load(uri: str):
    with store.using(uri):
        return mlflow.pyfunc.load_model(f"models:/{NAME}@{registry.CANDIDATE}")


def test_deid_param_answers_text_rows_with_the_deidentified_note(registered) -> None:
    model = load(registered[0])
    answers = model.predict(pd.DataFrame(ROWS), params={"deid": True})
    assert [a["text"] for a in answers] == EXPECTED and answers[0]["id"] == "1" and "id" not in answers[1]
    assert [(r["start"], r["end"], r["output_start"], r["output_end"]) for r in answers[0]["replaced"][:3]] == [
        (0, 3, 0, 6), (4, 7, 7, 13), (8, 19, 14, 20)]
    assert CANARY not in json.dumps(answers)
    surrogates = model.predict(pd.DataFrame(ROWS), params={"deid": True, "surrogates": True})
    assert [a["text"] for a in surrogates] == SURROGATES
    # without the param the model answers as before: every task's entities, the original offsets
    plain = model.predict(pd.DataFrame(ROWS))
    assert set(plain[0]["entities"]) == {"i2b2-2014"} and plain[0]["entities"]["i2b2-2014"][0]["end"] == 3
    assert model.predict(pd.DataFrame(ROWS), params={"deid": False}) == plain


def test_deid_requests_that_cannot_be_answered_say_why(registered) -> None:
    model = load(registered[0])
    with pytest.raises(ValueError, match=r'row 1: de-identification takes notes') as err:
        model.predict(pd.DataFrame([{"text": CANARY}, {"a": CANARY, "b": "x"}]), params={"deid": True})
    assert CANARY not in str(err.value)
    with pytest.raises(ValueError, match=r"task 'medrqe' is nli, not NER.*params\[\"deid_task\"\]"):
        model.predict(pd.DataFrame(ROWS), params={"deid": True, "deid_task": "medrqe"})
    with pytest.raises(ValueError, match=r"has no PHI task 'quaero-2014'"):
        model.predict(pd.DataFrame(ROWS), params={"deid": True, "deid_task": "quaero-2014"})


def test_the_signature_declares_the_params(registered) -> None:
    params = {p["name"]: (p["type"], p["default"]) for p in pyfunc.signature().params.to_dict()}
    assert params == {"deid": ("boolean", False), "surrogates": ("boolean", False),
                      "deid_task": ("string", "i2b2-2014")}
    assert load(registered[0]).metadata.get_params_schema() == pyfunc.signature().params


def test_the_scoring_app_takes_params_in_the_request_body(registered) -> None:
    from fastapi.testclient import TestClient
    from mlflow.pyfunc import scoring_server

    app = scoring_server.init(load(registered[0]))
    body = {"dataframe_records": ROWS, "params": {"deid": True, "surrogates": True}}
    response = TestClient(app).post("/invocations", json=body)
    assert response.status_code == 200, response.text
    assert [p["text"] for p in response.json()["predictions"]] == SURROGATES


def test_deid_cli_takes_a_registered_model(registered, tmp_path: Path, monkeypatch) -> None:
    uri, _ = registered
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = tmp_path / "deid.jsonl"
    assert main(["deid", "--model", f"models:/{NAME}@{registry.CANDIDATE}", "--input", str(notes), "--output",
                 str(out), "--device", "cpu"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == load(uri).predict(pd.DataFrame(ROWS), params={"deid": True})  # CLI and server: same objects


@pytest.mark.slow
def test_mlflow_models_serve_deidentifies(registered) -> None:
    uri, tmp = registered
    predictions = mlflow_models_serve(f"models:/{NAME}@{registry.CANDIDATE}", ROWS, tmp, params={"deid": True},
                                      MLFLOW_TRACKING_URI=uri)
    assert [p["text"] for p in predictions] == EXPECTED
    assert predictions[0]["replaced"][0] == {"start": 0, "end": 3, "type": "DATE", "output_start": 0,
                                             "output_end": 6, "replacement": "[DATE]", "score": 1.0, "merged": 1}
