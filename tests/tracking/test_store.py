from __future__ import annotations

import os
from pathlib import Path

import mlflow

from mtclin.tracking import store


def test_default_uri_is_sqlite_in_the_project(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MTCLIN_PROJECT_DIR", raising=False)
    assert store.tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert (store.project_root() / "dvc.yaml").is_file()  # the editable checkout
    assert store.tracking_uri() == f"sqlite:///{store.project_root()}/mlflow.db"
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(tmp_path))
    assert store.project_root() == tmp_path
    assert store.tracking_uri() == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_environment_overrides_the_uri(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert store.tracking_uri(tmp_path) == "http://tracking.example:5000"
    assert store.artifact_location("http://tracking.example:5000", "x") is None


def test_experiment_gets_artifacts_beside_the_database(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = store.ensure_experiment("mt-clinical-bert", uri)
    assert store.ensure_experiment("mt-clinical-bert", uri) == first
    experiment = store.client(uri).get_experiment(first)
    assert experiment.artifact_location == (tmp_path / "mlartifacts" / "mt-clinical-bert").as_uri()
    store.client(uri).delete_experiment(first)
    assert store.ensure_experiment("mt-clinical-bert", uri) == first  # restored, not shadowed


def test_using_restores_the_previous_uri(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with store.using(uri):
        assert mlflow.get_tracking_uri() == uri
        assert os.environ["MLFLOW_TRACKING_URI"] == uri
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///elsewhere.db"
    assert mlflow.get_tracking_uri() == "sqlite:///elsewhere.db"
