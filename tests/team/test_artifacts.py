"""Artifacts go through the MLflow server into the object store (clients hold no S3 key), and the promoted model
loads and serves on a fresh client that has nothing but the tracking URI and a reader's credentials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from mtclin.corpora.samples.common import CANARY
from tests.scratch import free_port
from tests.team.conftest import Stack

MODEL = "mt-clinical-bert"
LOAD = """
import json, mlflow.pyfunc
model = mlflow.pyfunc.load_model("models:/mt-clinical-bert@production")
print(json.dumps(model.predict([{"text": "patient takes aspirin 81 mg daily ."}]), default=str))
"""


def reader_env(stack: Stack) -> dict[str, str]:
    """Only the tracking URI and credentials: no S3 endpoint or key, no Prefect."""
    env = stack.client_env("reader")
    env = {k: v for k, v in env.items() if not k.startswith(("PREFECT_", "AWS_"))}
    assert not any(k.startswith("MLFLOW_S3") for k in env)
    return env


@pytest.mark.slow
def test_artifacts_land_in_the_object_store(team: Stack, trained) -> None:
    with team.mlflow_as("admin") as client:
        version = client.get_model_version(MODEL, trained["version"])
        run = client.get_run(version.run_id)
    experiment = run.info.experiment_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied: the server writes to S3
    keys = list(team.objects("mtclin-mlflow"))
    run_keys = [k for k in keys if k.startswith(f"{experiment}/{run.info.run_id}/artifacts/")]
    assert any(k.endswith(".png") for k in run_keys) and any(k.endswith("config.json") for k in run_keys)
    model_id = version.source.removeprefix("models:/")
    model_keys = [k for k in keys if k.startswith(f"{experiment}/models/{model_id}/artifacts/")]
    assert any(k.endswith("/MLmodel") for k in model_keys)
    assert any(k.endswith(".safetensors") for k in model_keys), "the weights are not in the object store"


@pytest.mark.slow
def test_production_model_loads_and_serves_on_a_fresh_client(team: Stack, trained, tmp_path) -> None:
    env = reader_env(team)
    loaded = subprocess.run([sys.executable, "-c", LOAD], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "entities" in json.loads(loaded.stdout.strip().splitlines()[-1])[0]

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m",
                               f"models:/{MODEL}@production", "--env-manager", "local", "--host", "127.0.0.1",
                               "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # the canary rides along: a prediction request must leave no trace anywhere in the stack (test_canary)
        body = json.dumps({"dataframe_records": [{"text": f"{CANARY} takes aspirin 81 mg daily ."},
                                                 {"a": f"{CANARY} has fever", "b": "is it serious ?"}]})
        answer = None
        deadline = time.monotonic() + 240
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body.encode(),
                                                 {"Content-Type": "application/json"})
                answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
            except OSError:
                time.sleep(1)
        assert answer is not None, "mlflow models serve did not answer"
        text, pair = answer["predictions"]
        assert set(text["entities"]) == {"i2b2-2010"} and set(pair["pair"]) == {"medrqe"}  # TINY's corpora
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
