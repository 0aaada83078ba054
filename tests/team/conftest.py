"""The team stack as an operator starts it (deploy/team/serve.sh), once per session, on free ports with its own
data folders: PostgreSQL, the SeaweedFS object store, the MLflow server (basic auth, proxied S3 artifacts), the
Prefect server (auth string), the `mtclin-team` pool, the */team deployments and a worker. Tests reach it as
clients do: HTTP with credentials from the stack's secrets file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests import stack_checks
from tests.scratch import free_port, make_project

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
SERVICES = ("postgres", "s3", "mlflow-server", "prefect-server", "prefect-worker")
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# the tiny settings of tests/flows: the 2-layer test BERT, one epoch, a few examples per task; one NER and one
# pair task (both carry the canary): every registration sends each run metric's history through the server
# (mlflow log_model), so fewer tasks keep these runs short
TINY = {"corpora": ["i2b2-2010", "medrqe"], "epochs": 1, "ner_batch_size": 8, "pair_batch_size": 8,
        "learning_rate": 1e-3, "limit_train": 16, "limit_eval": 8}


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def clean_env() -> dict[str, str]:
    """This environment without anything that would point a client at another server or lend it credentials."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PREFECT_", "MLFLOW_", "AWS_", "MTCLIN_", "PGPASSWORD"))}


@dataclass
class Stack:
    root: Path  # the project the stack serves (its flows run there)
    env: dict[str, str]  # what deploy/team/*.sh run with
    team_dir: Path
    ports: dict[str, int]

    @property
    def secrets(self) -> dict[str, str]:
        return read_env_file(self.root / ".mtclin" / "team.env")

    @property
    def mlflow_uri(self) -> str:
        return f"http://127.0.0.1:{self.ports['mlflow']}"

    @property
    def prefect_api(self) -> str:
        return f"http://127.0.0.1:{self.ports['prefect']}/api"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def script(self, name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", f"deploy/team/{name}", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def serve(self, *services: str) -> None:
        done = self.script("serve.sh", *services)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]

    def stop(self, *services: str) -> subprocess.CompletedProcess:
        return self.script("stop.sh", *services, timeout=300)

    def running(self) -> bool:
        """Whether every server's recorded process is alive (deploy/team/procs.sh service_running)."""
        checks = " && ".join(f"service_running '{self.team_dir}' {s}" for s in SERVICES)
        return subprocess.run(["bash", "-c", f". deploy/team/procs.sh && {checks}"], cwd=self.root).returncode == 0

    def service_pids(self, service: str) -> set[int]:
        """Every live process of a service, as deploy/team/procs.sh finds them (group and marked descendants)."""
        return stack_checks.service_pids(self.root, self.team_dir, service)

    def client_env(self, user: str = "worker") -> dict[str, str]:
        """A client's environment, as on a worker machine (client.env), with MLflow user mtclin-<user>."""
        env = clean_env() | read_env_file(self.team_dir / "client.env")
        env |= {"MLFLOW_TRACKING_URI": self.mlflow_uri, "PREFECT_API_URL": self.prefect_api,
                "MLFLOW_TRACKING_USERNAME": f"mtclin-{user}",
                "MLFLOW_TRACKING_PASSWORD": self.secrets[f"MTCLIN_TEAM_MLFLOW_{user.upper()}_PASSWORD"],
                "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        return {k: v for k, v in env.items() if not k.startswith("MTCLIN_TEAM_")}

    # -- Prefect, over its REST API with the auth string --------------------------------------------------------
    def prefect(self, method: str, path: str, **kwargs: Any) -> Any:
        import requests

        user, _, password = self.secrets["MTCLIN_TEAM_PREFECT_AUTH_STRING"].partition(":")
        answer = requests.request(method, f"{self.prefect_api}{path}", auth=(user, password), timeout=60, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def run_deployment(self, name: str, parameters: dict[str, Any]) -> str:
        """Create a flow run of deployment ``flow/deployment``; its id (the worker picks it up)."""
        deployment = self.prefect("GET", f"/deployments/name/{name}")
        run = self.prefect("POST", f"/deployments/{deployment['id']}/create_flow_run",
                           json={"parameters": parameters})
        return run["id"]

    def flow_run(self, run_id: str) -> dict[str, Any]:
        return self.prefect("GET", f"/flow_runs/{run_id}")

    def wait(self, run_id: str, timeout: float = 480) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.flow_run(run_id)
            if run["state_type"] in TERMINAL:
                return run
            time.sleep(2)
        raise AssertionError(f"flow run {run_id} still {run['state_type']} after {timeout}s")

    def logs(self, run_id: str) -> str:
        rows = self.prefect("POST", "/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}},
                                                           "limit": 200})
        return "\n".join(r["message"] for r in rows)

    # -- MLflow and S3 as the admin -----------------------------------------------------------------------------
    @contextmanager
    def mlflow_as(self, user: str = "admin") -> Iterator[Any]:
        """An MlflowClient on the stack, authenticating as mtclin-<user> (MLflow reads credentials from env)."""
        from mlflow import MlflowClient

        saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
        os.environ["MLFLOW_TRACKING_USERNAME"] = f"mtclin-{user}"
        os.environ["MLFLOW_TRACKING_PASSWORD"] = self.secrets[f"MTCLIN_TEAM_MLFLOW_{user.upper()}_PASSWORD"]
        try:
            yield MlflowClient(tracking_uri=self.mlflow_uri, registry_uri=self.mlflow_uri)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def s3(self, identity: str = "ADMIN") -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_url, region_name="us-east-1",
                            aws_access_key_id=self.secrets[f"MTCLIN_TEAM_S3_{identity}_KEY"],
                            aws_secret_access_key=self.secrets[f"MTCLIN_TEAM_S3_{identity}_SECRET"])

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object of a bucket, key -> body, read through the S3 API."""
        s3 = self.s3()
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}

    def pg_dump(self, database: str) -> bytes:
        pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        pg_dump = str(pg_bin[-1] / "pg_dump") if pg_bin else "pg_dump"
        done = subprocess.run([pg_dump, "-h", "127.0.0.1", "-p", str(self.ports["postgres"]), "-U", "mtclin",
                               database], env=clean_env() | {"PGPASSWORD": self.secrets["MTCLIN_TEAM_PG_PASSWORD"]},
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return done.stdout


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=mtclin-tests", "-c", "user.email=tests@mtclin.invalid", *args],
                          cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def team_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project with its processed data reproduced (what `git clone` + `dvc pull` would give)."""
    root = make_project(tmp_path_factory.mktemp("team") / "project", scale=0.3)
    for name in ("prefect.yaml", ".gitignore"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "deploy", root / "deploy")
    env = clean_env() | {"PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", "-q"], cwd=root, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    git(root, "add", "-A")  # processed/ stays out of git: a clone gets it (stats.json too) from `dvc pull`
    git(root, "commit", "-q", "-m", "project with sample corpora")
    return root


@pytest.fixture(scope="session")
def stack(team_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # PostgreSQL runs as the `postgres` user when we are root: its data folder must be reachable by it, which
    # pytest's per-user temporary folder (mode 700) is not
    pgdata = Path(tempfile.mkdtemp(prefix="mtclin-team-pg-"))
    ports = {name: free_port() for name in ("postgres", "s3", "mlflow", "prefect")}
    env = clean_env() | {
        "VENV": str(VENV), "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "MTCLIN_TEAM_PGDATA": str(pgdata), "MTCLIN_TEAM_PG_PORT": str(ports["postgres"]),
        "MTCLIN_TEAM_S3_PORT": str(ports["s3"]), "MTCLIN_TEAM_MLFLOW_PORT": str(ports["mlflow"]),
        "MTCLIN_TEAM_PREFECT_PORT": str(ports["prefect"]),
        "MTCLIN_TEAM_MLFLOW_WORKERS": "1",  # one uvicorn worker: the test machine has 2 cores
        "PREFECT_WORKER_QUERY_SECONDS": "2", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    stack = Stack(team_project, env, team_project / ".mtclin" / "team", ports)
    try:
        stack.serve()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture
def team(stack: Stack) -> Stack:
    """The session's stack, started again if a test stopped it."""
    if not stack.running():
        stack.serve()
    return stack


def tiny_params(model_dir: Path, **changes: Any) -> dict[str, Any]:
    return {"encoder": str(model_dir)} | TINY | changes


@pytest.fixture(scope="session")
def trained(stack: Stack, tiny: tuple[Any, Path]) -> dict[str, Any]:
    """One `train-multitask/team` deployment run, promoted by `promote-model/team`: a `production` version."""
    if not stack.running():
        stack.serve()
    run_id = stack.run_deployment("train-multitask/team", tiny_params(tiny[1]))
    run = stack.wait(run_id)
    assert run["state_type"] == "COMPLETED", (run["state"]["message"], stack.logs(run_id)[-3000:])
    promote = stack.wait(stack.run_deployment("promote-model/team", {"tolerance": 1.0}), timeout=300)
    assert promote["state_type"] == "COMPLETED", promote["state"]["message"]
    with stack.mlflow_as("admin") as client:
        version = client.get_model_version_by_alias("mt-clinical-bert", "production")
    return {"flow_run_id": run_id, "version": version.version, "run_id": version.run_id}


def dump(value: Any) -> str:
    return json.dumps(value, default=str)
