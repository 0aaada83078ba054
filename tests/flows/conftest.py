"""Flows run for real: Prefect's test harness (a temporary local server on SQLite), a real git + DVC project on
the sample corpora, a real MLflow SQLite store inside it, and real GX validation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.scratch import make_project


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as a user has it after `mtclin sample-corpora data && dvc add data` (small scale)."""
    return make_project(tmp_path_factory.mktemp("template") / "project", scale=0.3)


@pytest.fixture
def project(project_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(project_template, root, symlinks=True)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own sqlite:///mlflow.db
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(root))
    return root
