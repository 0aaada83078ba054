"""Flows run for real: Prefect's test harness (a temporary local server on SQLite), a real git + DVC project on
the sample corpora, a real MLflow SQLite store inside it, and real GX validation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _run(cmd: list[str], cwd: Path) -> None:
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd}: {done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as a user has it after `mtclin sample-corpora data && dvc add data` (small scale)."""
    root = tmp_path_factory.mktemp("template")
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, root / name)
    for name in ("mtclin", "flows", "expectations"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run(["git", "init", "-q"], root)
    _run(["dvc", "init", "-q"], root)
    _run([sys.executable, "-m", "mtclin.cli", "sample-corpora", "data", "--scale", "0.3"], root)
    _run(["dvc", "add", "-q", "data"], root)
    return root


@pytest.fixture
def project(project_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    shutil.copytree(project_template, root, symlinks=True)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own sqlite:///mlflow.db
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(root))
    return root
