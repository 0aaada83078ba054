"""The stack's secrets are generated on first start into a git-ignored file only its owner can read, and appear
nowhere else: not in git, prefect.yaml, a log, a command line, MLflow's params and tags, or Prefect's records."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.team.conftest import SERVICES, Stack, dump, git

SECRET_NAMES = {"MTCLIN_TEAM_PG_PASSWORD", "MTCLIN_TEAM_S3_ADMIN_KEY", "MTCLIN_TEAM_S3_ADMIN_SECRET",
                "MTCLIN_TEAM_S3_MLFLOW_KEY", "MTCLIN_TEAM_S3_MLFLOW_SECRET", "MTCLIN_TEAM_S3_DVC_KEY",
                "MTCLIN_TEAM_S3_DVC_SECRET", "MTCLIN_TEAM_MLFLOW_ADMIN_PASSWORD", "MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD",
                "MTCLIN_TEAM_MLFLOW_READER_PASSWORD", "MTCLIN_TEAM_MLFLOW_FLASK_SECRET",
                "MTCLIN_TEAM_PREFECT_AUTH_STRING"}


def secret_values(stack: Stack) -> dict[str, str]:
    values = {k: v.partition(":")[2] if k.endswith("AUTH_STRING") else v for k, v in stack.secrets.items()}
    assert all(len(v) >= 16 for v in values.values())
    return values


@pytest.mark.slow
def test_secrets_are_generated_into_a_private_git_ignored_file(team: Stack) -> None:
    path = team.root / ".mtclin" / "team.env"
    assert set(team.secrets) == SECRET_NAMES
    assert path.stat().st_mode & 0o077 == 0 and (team.team_dir / "client.env").stat().st_mode & 0o077 == 0
    for private in (path, team.team_dir / "client.env", team.root / ".dvc" / "config.local"):
        assert subprocess.run(["git", "check-ignore", "-q", str(private)], cwd=team.root).returncode == 0, private


@pytest.mark.slow
def test_secrets_appear_nowhere_else(team: Stack, trained) -> None:
    places: dict[str, str] = {}
    for name in git(team.root, "ls-files").splitlines():
        places[f"git:{name}"] = (team.root / name).read_text(errors="replace")
    for path in sorted(team.team_dir.glob("*.log")) + sorted(team.team_dir.glob("*.ini")):
        places[f"file:{path.name}"] = path.read_text(errors="replace")
    for service in SERVICES:
        for pid in team.service_pids(service):
            try:
                places[f"cmdline:{service}:{pid}"] = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except FileNotFoundError:
                pass
    with team.mlflow_as("admin") as client:
        run = client.get_run(trained["run_id"])
        places["mlflow:run"] = dump([run.data.params, run.data.tags, run.info.run_name])
        places["mlflow:versions"] = dump([(v.tags, v.description) for v in
                                          client.search_model_versions("name='mt-clinical-bert'")])
    places["prefect:deployments"] = dump(team.prefect("POST", "/deployments/filter", json={}))
    places["prefect:work_pools"] = dump(team.prefect("POST", "/work_pools/filter", json={}))
    places["prefect:flow_run"] = dump(team.flow_run(trained["flow_run_id"]))
    places["prefect:logs"] = team.logs(trained["flow_run_id"])
    assert "prefect:logs" in places and any(k.startswith("cmdline:mlflow-server") for k in places)

    leaks = [(name, where) for name, value in secret_values(team).items() for where, text in places.items()
             if value in text]
    assert not leaks, f"secrets found: {leaks}"
