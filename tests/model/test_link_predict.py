"""Assertion and relation tasks through every serving path: save / load / Predictor, ``mtclin predict``, the
pyfunc, a real ``mlflow models serve``, and the refusals of the ONNX paths; their TaskSpec's tasks.json round trip."""

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
from tests.link_toys import i2b2_docs, n2c2_docs
from tests.scratch import mlflow_models_serve
from tests.tracking import sqlite_uri

@pytest.fixture(scope="module")
def model_dir(linked_trained) -> Path:
    return linked_trained.model_dir


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


@pytest.fixture(scope="module")
def registered(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(tracking URI, its directory): ``model_dir`` registered as version 1 of ``linked``, alias candidate."""
    tmp = tmp_path_factory.mktemp("linked-registry")
    uri = sqlite_uri(tmp)
    # a run of an experiment of its own: the default one's id may be another store's, cached by an earlier test
    run = store.client(uri).create_run(store.ensure_experiment("link-test", uri))
    # registered without ONNX artifacts (the export refuses link heads), verified on the torch backend
    registry.log_and_register(run.info.run_id, model_dir, {"i2b2-2010-assertion": ("f1", 1.0)}, name="linked",
                              uri=uri)
    return uri, tmp


def test_pyfunc_answers_with_assertions_and_relations(registered):
    with store.using(registered[0]):
        model = mlflow.pyfunc.load_model("models:/linked/1")
    rows = pd.DataFrame([{"id": "1", "text": i2b2_docs()[0].text, "a": None, "b": None}])
    [row] = model.predict(rows)
    assert [e.get("assertion") for e in row["entities"]["i2b2-2010"]] == ["absent", "present"]
    assert row["relations"]["i2b2-2010-relations"] == []


def _gold(doc) -> tuple[set, set]:
    """A note's gold (span, type, assertion) per entity and (type, arg1 span, arg2 span) per relation."""
    span = {e.id: e.fragments[0] for e in doc.entities}
    asserted = {a.entity: a.value for a in doc.assertions}
    return ({(span[e.id], e.type, asserted.get(e.id)) for e in doc.entities},
            {(r.type, span[r.arg1], span[r.arg2]) for r in doc.relations})


def _answered(entities: list[dict], relations: list[dict]) -> tuple[set, set]:
    """The same sets from an answer; every relation argument must be the id of one of the answer's entities."""
    ids = [e["id"] for e in entities]
    assert len(set(ids)) == len(ids), ids
    span = {e["id"]: (e["start"], e["end"]) for e in entities}
    assert all(r["arg1"] in span and r["arg2"] in span for r in relations), (ids, relations)
    return ({(span[e["id"]], e["type"], e.get("assertion")) for e in entities},
            {(r["type"], span[r["arg1"]], span[r["arg2"]]) for r in relations})


@pytest.mark.slow
def test_mlflow_models_serve_answers_assertions_and_relations(registered, model_dir: Path):
    uri, tmp = registered
    docs = {"i2b2-2010": i2b2_docs(), "n2c2-2018": n2c2_docs()}
    rows = [{"id": d.id, "text": d.text} for corpus in docs.values() for d in corpus]
    served = mlflow_models_serve("models:/linked@candidate", rows, tmp, MLFLOW_TRACKING_URI=uri)
    # the very objects Predictor.predict gives for the same notes (after JSON, as the server sends them)
    expected = json.loads(json.dumps(Predictor.load(model_dir, device="cpu").predict([r["text"] for r in rows])))
    assert [a["id"] for a in served] == [r["id"] for r in rows]
    for answer_, predicted in zip(served, expected):
        assert set(answer_["entities"]) == {"i2b2-2010", "n2c2-2018"}
        assert set(answer_["relations"]) == {"i2b2-2010-relations", "n2c2-2018-relations"}
        assert {**answer_["entities"], **answer_["relations"]} == predicted
    # and they are the notes' gold: each entity with its id and assertion, relations between returned ids
    served = iter(served)
    for corpus, corpus_docs in docs.items():
        for doc in corpus_docs:
            got = next(served)
            assert _answered(got["entities"][corpus], got["relations"][f"{corpus}-relations"]) == _gold(doc), doc.id
    asserted = [e for a in expected[:len(docs["i2b2-2010"])] for e in a["i2b2-2010"] if e["type"] == "problem"]
    assert len(asserted) == 9 and all(0 < e["assertion_score"] <= 1 for e in asserted)


def test_link_task_spec_round_trips_through_tasks_json(model_dir: Path):
    for spec in load_meta(model_dir).tasks:
        assert TaskSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    plain = TaskSpec("medrqe", "nli", ("false", "true"))
    assert set(plain.to_json()) == {"name", "kind", "labels"}  # a pair task's tasks.json is unchanged
    with pytest.raises(ValueError, match="needs its source NER corpus"):
        TaskSpec("x", "assertion", ("present",))
