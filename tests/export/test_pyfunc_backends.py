"""A registered version carries its ONNX exports and the pyfunc serves every backend with the same answers (real
MLflow, SQLite store under tmp_path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pytest

from mtclin.tracking import pyfunc, registry, store
from mtclin.tracking.fetch import local_model
from mtclin.tracking.registry import _decisions
from tests.scratch import mlflow_models_serve
from tests.tracking import sqlite_uri

ROWS = [{"id": "t", "text": "patient takes aspirin 81 mg daily for chest pain ."},
        {"id": "p", "a": "does aspirin cause bleeding ?", "b": "what are the side effects of aspirin ?"}]


def _empty_run(uri: str):
    """A finished run to register a model from (as a training run is by the time it registers)."""
    with store.using(uri):
        mlflow.set_experiment("export-test")
        with mlflow.start_run() as run:
            pass
    return run


def test_serving_backend_env_wins_over_model_config(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(pyfunc.BACKEND_ENV, raising=False)
    assert pyfunc.serving_backend(None) == "torch"
    assert pyfunc.serving_backend({"backend": "onnx"}) == "onnx"
    monkeypatch.setenv(pyfunc.BACKEND_ENV, "onnx-int8")
    assert pyfunc.serving_backend({"backend": "onnx"}) == "onnx-int8"
    monkeypatch.setenv(pyfunc.BACKEND_ENV, "tensorrt")
    with pytest.raises(ValueError, match="MTCLIN_BACKEND"):
        pyfunc.serving_backend()


def test_registered_version_serves_every_backend(tiny_model_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(pyfunc.BACKEND_ENV, raising=False)
    uri = sqlite_uri(tmp_path)
    run = _empty_run(uri)
    mv = registry.log_and_register(run.info.run_id, tiny_model_dir, {"n2c2-2018": ("f1", 0.5)}, "tiny", uri)
    assert mv.aliases == [registry.CANDIDATE]
    with store.using(uri):
        answers = {b: mlflow.pyfunc.load_model("models:/tiny@candidate", model_config={"backend": b}).predict(ROWS)
                   for b in pyfunc.BACKEND_ARTIFACTS}
    with local_model("models:/tiny@candidate", uri) as model:  # what `mtclin export --model models:/...` reads
        assert (model.path / "heads.safetensors").read_bytes() == (tiny_model_dir / "heads.safetensors").read_bytes()
        for key in ("onnx", "onnx-int8"):  # the exports travel with the version
            export = model.path.parent / key
            assert (export / "model.onnx").is_file() and (export / "tasks.json").is_file()
    assert _decisions(answers["onnx"]) == _decisions(answers["torch"])
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "export", "--model", "models:/tiny@candidate",
                           "--quantize", "int8", "--out", str(tmp_path / "int8")], capture_output=True, text=True,
                          env=os.environ | {"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "int8" / "model.onnx").is_file() and "onnx int8" in done.stdout
    assert [a["id"] for a in answers["onnx-int8"]] == ["t", "p"] and "entities" in answers["onnx-int8"][0]


def test_backend_without_its_artifact_is_a_clear_error(tiny_model_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    uri = sqlite_uri(tmp_path)
    run = _empty_run(uri)
    registry.log_and_register(run.info.run_id, tiny_model_dir, {}, "plain", uri, onnx=False)
    monkeypatch.setenv(pyfunc.BACKEND_ENV, "onnx")
    with store.using(uri), pytest.raises(Exception, match="no 'onnx' artifact"):
        mlflow.pyfunc.load_model("models:/plain@candidate")


@pytest.mark.slow
def test_mlflow_models_serve_answers_with_the_onnx_backend(tiny_model_dir: Path, tmp_path: Path):
    """`MTCLIN_BACKEND=onnx-int8 mlflow models serve -m models:/NAME@candidate` (a real server in a subprocess)."""
    uri = sqlite_uri(tmp_path)
    run = _empty_run(uri)
    registry.log_and_register(run.info.run_id, tiny_model_dir, {}, "served", uri)
    predictions = mlflow_models_serve("models:/served@candidate", ROWS, tmp_path, MLFLOW_TRACKING_URI=uri,
                                      MTCLIN_BACKEND="onnx-int8")
    assert set(predictions[0]["entities"]) == {"n2c2-2018", "quaero-2014"}
    assert set(predictions[1]["pair"]) == {"medrqe", "mednli", "n2c2-2019"}


def test_a_span_model_registers_without_onnx_and_serves_with_torch(tiny, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    """The ONNX graph cannot hold a span head: export refuses such a model, registration goes without the exports
    (instead of failing), the torch backend answers and an ONNX backend says why it cannot."""
    from dataclasses import replace

    import torch

    from mtclin.export.onnx import ExportError, export_onnx
    from mtclin.model.io import ModelMeta, build_model, save_model
    from mtclin.tasks import task_for_corpus

    monkeypatch.delenv(pyfunc.BACKEND_ENV, raising=False)
    tasks = (replace(task_for_corpus("quaero-2014", ner_head="span"), max_span_width=4), task_for_corpus("medrqe"))
    torch.manual_seed(0)
    model, tokenizer = build_model(str(tiny[1]), tasks)
    span_dir = save_model(model, tokenizer, tmp_path / "span-model", ModelMeta(tasks, max_length=32, stride=8))
    with pytest.raises(ExportError, match="tasks quaero-2014 .span NER"):
        export_onnx(span_dir, tmp_path / "export")
    assert not (tmp_path / "export").exists()
    uri = sqlite_uri(tmp_path)
    run = _empty_run(uri)
    mv = registry.log_and_register(run.info.run_id, span_dir, {}, "span", uri)
    assert mv.aliases == [registry.CANDIDATE]
    with store.using(uri):
        answers = mlflow.pyfunc.load_model("models:/span@candidate").predict(ROWS)
        assert set(answers[0]["entities"]) == {"quaero-2014"} and set(answers[1]["pair"]) == {"medrqe"}
        with pytest.raises(Exception, match="span NER, assertion or relation heads"):
            mlflow.pyfunc.load_model("models:/span@candidate", model_config={"backend": "onnx"})
