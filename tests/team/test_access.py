"""Who may reach the team stack: nobody without credentials, each MLflow user only as far as deploy/team/access.py
grants, and no server listening beyond loopback unless MTCLIN_TEAM_HOST says so."""

from __future__ import annotations

import secrets

import boto3
import botocore
import psutil
import pytest
import requests
from botocore.config import Config

from tests.team.conftest import SERVICES, Stack

MODEL = "mt-clinical-bert"


def mlflow_calls(version) -> dict[str, tuple[str, str, dict]]:
    """Reading a run, registering a version, moving `production`: (method, path, arguments)."""
    return {
        "read run": ("GET", "/api/2.0/mlflow/runs/get", {"params": {"run_id": version.run_id}}),
        "register version": ("POST", "/api/2.0/mlflow/model-versions/create",
                             {"json": {"name": MODEL, "source": version.source, "run_id": version.run_id}}),
        "move production": ("POST", "/api/2.0/mlflow/registered-models/alias",
                            {"json": {"name": MODEL, "alias": "production", "version": version.version}}),
    }


def call(stack: Stack, request: tuple[str, str, dict], auth=None) -> int:
    method, path, kwargs = request
    return requests.request(method, stack.mlflow_uri + path, auth=auth, timeout=60, **kwargs).status_code


@pytest.mark.slow
def test_requests_without_credentials_are_refused(team: Stack, trained) -> None:
    with team.mlflow_as("admin") as client:
        version = client.get_model_version(MODEL, trained["version"])
    for what, request in mlflow_calls(version).items():
        assert call(team, request) == 401, f"MLflow answered '{what}' without credentials"
        assert call(team, request, ("mtclin-worker", "wrong-password")) == 401, what
    assert requests.post(f"{team.prefect_api}/flow_runs/filter", json={}, timeout=30).status_code == 401
    assert requests.post(f"{team.prefect_api}/flow_runs/filter", json={}, auth=("mtclin", "wrong"),
                         timeout=30).status_code == 401
    anonymous = boto3.client("s3", endpoint_url=team.s3_url, region_name="us-east-1",
                             config=Config(signature_version=botocore.UNSIGNED))
    for bucket in ("mtclin-mlflow", "mtclin-dvc"):
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
            anonymous.list_objects_v2(Bucket=bucket)
    # each S3 identity reaches its own bucket only: the DVC keys that workers hold open no MLflow artifact
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        team.s3("DVC").list_objects_v2(Bucket="mtclin-mlflow")


@pytest.mark.slow
def test_users_do_only_what_they_are_granted(team: Stack, trained) -> None:
    from mlflow.server import get_app_client

    guest = (f"guest-{secrets.token_hex(3)}", secrets.token_hex(16))  # a user with no grant at all
    with team.mlflow_as("admin") as client:
        version = client.get_model_version(MODEL, trained["version"])
        get_app_client("basic-auth", tracking_uri=team.mlflow_uri).create_user(*guest)
    calls = mlflow_calls(version)
    reader = ("mtclin-reader", team.secrets["MTCLIN_TEAM_MLFLOW_READER_PASSWORD"])
    worker = ("mtclin-worker", team.secrets["MTCLIN_TEAM_MLFLOW_WORKER_PASSWORD"])
    for what in calls:
        assert call(team, calls[what], guest) == 403, f"a user without permission could {what}"
    assert call(team, calls["read run"], reader) == 200
    assert call(team, calls["read run"], worker) == 200
    for what in ("register version", "move production"):
        assert call(team, calls[what], reader) == 403, f"mtclin-reader (READ) could {what}"
    with team.mlflow_as("admin") as client:
        assert client.get_model_version_by_alias(MODEL, "production").version == trained["version"]
        assert len(client.search_model_versions(f"name='{MODEL}' and run_id='{version.run_id}'")) == 1


@pytest.mark.slow
def test_every_server_listens_on_loopback_only(team: Stack) -> None:
    pids = set().union(*(team.service_pids(s) for s in SERVICES))
    listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
    ports = {c.laddr.port for c in listening}
    assert set(team.ports.values()) <= ports, "a server of the stack is not listening"
    exposed = sorted({f"{c.laddr.ip}:{c.laddr.port}" for c in listening if c.laddr.ip not in ("127.0.0.1", "::1")})
    assert not exposed, f"listening beyond loopback without MTCLIN_TEAM_HOST: {exposed}"
