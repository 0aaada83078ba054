"""The DVC remote `team` on the object store: `dvc push` of the raw and processed data from the stack's project; a
second clone (a machine that joins, deploy/team/client.sh) pulls both and trains against the team's servers with
nothing preprocessed again (without registering: registration is what the other tests check)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.team.conftest import VENV, Stack, git, tiny_params

TRAIN = """
import json, sys
from flows.train_multitask import train_multitask
out = train_multitask(project_dir=".", **json.loads(sys.argv[1]))
print("RESULT " + json.dumps({"run_id": out["run_id"], "version": out["version"]}))
"""


def dvc(root: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"dvc {' '.join(args)}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    return done.stdout + done.stderr


@pytest.mark.slow
def test_a_second_clone_pulls_the_data_and_trains_without_preprocessing(team: Stack, tiny, tmp_path: Path) -> None:
    env = team.client_env("worker") | {"DVC_NO_ANALYTICS": "1", "PREFECT_HOME": str(tmp_path / "prefect-home"),
                                       "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    dvc(team.root, env, "push")
    stored = team.s3("DVC").list_objects_v2(Bucket="mtclin-dvc")
    assert stored.get("KeyCount", 0) > 0

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(team.root), str(clone)], check=True)
    assert not (clone / "data").exists() and not list(clone.glob("processed/*/*.parquet"))
    shutil.copy(team.team_dir / "client.env", tmp_path / "client.env")  # what an operator hands a new machine
    (tmp_path / "client.env").chmod(0o600)
    configured = subprocess.run(
        ["bash", "-c", f". deploy/team/env.sh && . deploy/team/procs.sh && . deploy/team/client.sh && "
                       f"configure_dvc_remote '{tmp_path / 'client.env'}' 127.0.0.1"],
        cwd=clone, env=env | {"VENV": str(VENV)}, capture_output=True, text=True)
    assert configured.returncode == 0, configured.stderr
    assert "config.local" in git(clone, "status", "--porcelain", "--ignored")  # the keys stay out of git
    dvc(clone, env, "pull")
    processed = sorted((clone / "processed").rglob("*.parquet"))
    assert processed and (clone / "data").is_dir()
    assert "up to date" in dvc(clone, env, "status")
    pulled = {p: p.stat().st_mtime_ns for p in processed}

    params = tiny_params(tiny[1], seed=4, register_model=False)
    trained = subprocess.run([sys.executable, "-c", TRAIN, json.dumps(params)], cwd=clone,
                             env=env | {"MTCLIN_PROJECT_DIR": str(clone)}, capture_output=True, text=True,
                             timeout=900)
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-4000:]
    assert "DVC stages run: none (data unchanged)" in trained.stdout + trained.stderr
    assert {p: p.stat().st_mtime_ns for p in processed} == pulled
    result = json.loads(trained.stdout.split("RESULT ", 1)[1].splitlines()[0])
    with team.mlflow_as("admin") as client:  # tracked on the team's server (registration is tested elsewhere)
        assert client.get_run(result["run_id"]).info.status == "FINISHED"
