"""Assertion and relation tasks through every serving path: save / load / Predictor, ``mtclin predict``, the
pyfunc, and the refusals of the ONNX paths; their TaskSpec's tasks.json round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest

from mtclin.export.onnx import ExportError, export_onnx
from mtclin.inference import Predictor
from mtclin.model.io import load_meta
from mtclin.serving import answer
from mtclin.tasks import TaskSpec
from mtclin.tracking import registry, store
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from tests.link_toys import i2b2_docs, n2c2_docs, write_linked_processed
from tests.tracking import sqlite_uri

LINKED = ("i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018", "n2c2-2018-relations")


def _config(tmp: Path, tiny, processed: Path, **overrides) -> TrainConfig:
    values = dict(corpora=LINKED, processed_dir=str(processed), output_dir=str(tmp / "run"), encoder=str(tiny[1]),
                  epochs=30, learning_rate=3e-3, ner_batch_size=5, dropout=0.0, seed=0, progress=False, patience=0,
                  device="cpu")
    return TrainConfig(**(values | overrides))


@pytest.fixture(scope="module")
def model_dir(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("linked")
    return train(_config(tmp, tiny, write_linked_processed(tmp / "processed"))).model_dir


def test_predictor_returns_ids_assertions_and_relations(model_dir: Path):
    predictor = Predictor.load(model_dir, device="cpu")
    doc = i2b2_docs()[3]  # possible pneumonia ; ct scan showed mass  (TeRP ct scan -> mass)
    drug = n2c2_docs()[0]  # aspirin 81 mg daily for chest pain
    got = predictor.predict([doc.text, drug.text])
    entities = got[0]["i2b2-2010"]
    assert [e["id"] for e in entities] == ["T1", "T2", "T3"]
    assert [(e["type"], e.get("assertion")) for e in entities] == [("problem", "possible"), ("test", None),
                                                                    ("problem", "present")]
    assert 0 < entities[0]["assertion_score"] <= 1
    assert [(r["type"], r["arg1"], r["arg2"]) for r in got[0]["i2b2-2010-relations"]] == [("TeRP", "T2", "T3")]
    by_id = {e["id"]: e["type"] for e in got[1]["n2c2-2018"]}
    relations = {(r["type"], by_id[r["arg1"]], by_id[r["arg2"]]) for r in got[1]["n2c2-2018-relations"]}
    assert relations == {("Strength-Drug", "Strength", "Drug"), ("Frequency-Drug", "Frequency", "Drug"),
                         ("Reason-Drug", "Reason", "Drug")}
    assert all(0 < r["score"] <= 1 for r in got[1]["n2c2-2018-relations"])


def test_answers_put_relations_beside_entities(model_dir: Path):
    predictor = Predictor.load(model_dir, device="cpu")
    out = answer(predictor, [{"id": "a", "text": n2c2_docs()[2].text}, {"text": ""}])
    assert set(out[0]) == {"id", "entities", "relations"}
    assert set(out[0]["entities"]) == {"i2b2-2010", "n2c2-2018"}
    assert set(out[0]["relations"]) == {"i2b2-2010-relations", "n2c2-2018-relations"}
    assert {r["type"] for r in out[0]["relations"]["n2c2-2018-relations"]} == {"Route-Drug", "ADE-Drug"}
    assert out[1]["relations"] == {"i2b2-2010-relations": [], "n2c2-2018-relations": []}


def test_mtclin_predict_cli(model_dir: Path, tmp_path: Path):
    requests = tmp_path / "in.jsonl"
    requests.write_text(json.dumps({"text": i2b2_docs()[1].text}) + "\n")
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(model_dir), "--input", str(requests),
                           "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert [r["type"] for r in line["relations"]["i2b2-2010-relations"]] == ["TrAP"]


def test_onnx_paths_refuse_link_tasks(model_dir: Path, tmp_path: Path):
    with pytest.raises(ExportError, match="i2b2-2010-assertion.*torch backend"):
        export_onnx(model_dir, tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


def test_pyfunc_answers_with_assertions_and_relations(model_dir: Path, tmp_path: Path):
    uri = sqlite_uri(tmp_path)
    with store.using(uri):
        # an experiment of its own: the default one's id may be another store's, cached by an earlier test
        mlflow.set_experiment("link-test")
        with mlflow.start_run() as run:
            pass
        # registered without ONNX artifacts (the export refuses link heads), verified on the torch backend
        version = registry.log_and_register(run.info.run_id, model_dir, {}, name="linked", uri=uri)
        model = mlflow.pyfunc.load_model(f"models:/linked/{version.version}")
    rows = pd.DataFrame([{"id": "1", "text": i2b2_docs()[0].text, "a": None, "b": None}])
    [row] = model.predict(rows)
    assert [e.get("assertion") for e in row["entities"]["i2b2-2010"]] == ["absent", "present"]
    assert row["relations"]["i2b2-2010-relations"] == []


def test_link_task_spec_round_trips_through_tasks_json(model_dir: Path):
    for spec in load_meta(model_dir).tasks:
        assert TaskSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    plain = TaskSpec("medrqe", "nli", ("false", "true"))
    assert set(plain.to_json()) == {"name", "kind", "labels"}  # a pair task's tasks.json is unchanged
    with pytest.raises(ValueError, match="needs its source NER corpus"):
        TaskSpec("x", "assertion", ("present",))
