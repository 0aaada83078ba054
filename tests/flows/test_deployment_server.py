"""The stack as a user starts it (deploy/serve.sh): a real Prefect server, the process work pool and worker, the
MLflow server; `prefect deployment run train-multitask/local` trains and registers; then
`mlflow models serve` of the promoted model answers HTTP requests; `make stop` (deploy/stop.sh) then ends every
process of the stack, the flow runs' included (tests/stack_checks.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.scratch import free_port
from tests.stack_checks import local_service_pids, stop_and_check

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(project_template: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(project_template, root, symlinks=True)
    for name in ("prefect.yaml", "deploy"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, root / name)
    venv = Path(sys.executable).parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env |= {"VENV": str(venv), "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_PORT": str(free_port()),
            "MLFLOW_PORT": str(free_port()), "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{env['PREFECT_PORT']}/api"
    started = subprocess.run(["bash", "deploy/serve.sh"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield root, env
    finally:
        # stop.sh bounds itself (per service a grace period, then SIGKILL); 60 s was too short on a loaded runner
        subprocess.run(["bash", "deploy/stop.sh"], cwd=root, env=env, timeout=300)


@pytest.mark.slow
def test_deployment_run_trains_registers_serves_then_the_stack_stops(stack, tiny):
    root, env = stack
    _, model_dir = tiny
    # a few examples per task: what is tested is the deployment, not the training
    params = {"encoder": str(model_dir), "epochs": 1, "ner_batch_size": 8, "pair_batch_size": 8,
              "learning_rate": 0.001, "limit_train": 32, "limit_eval": 16}
    # the deployed schema holds the TrainConfig-derived parameters: a misspelt one is refused, named
    typo = subprocess.run(["prefect", "deployment", "run", "train-multitask/local", "--params",
                           json.dumps({"epoch": 1})], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    said = " ".join((typo.stdout + typo.stderr).split())  # unwrapped
    assert typo.returncode != 0 and "not found on the deployment: 'epoch'" in said and "max_span_widths" in said
    run = subprocess.run(["prefect", "deployment", "run", "train-multitask/local", "--params", json.dumps(params),
                          "--watch", "--watch-timeout", "400"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=480)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "Completed" in run.stdout

    import mlflow

    mlflow_uri = f"http://127.0.0.1:{env['MLFLOW_PORT']}"
    client = mlflow.MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    candidate = client.get_model_version_by_alias("mt-clinical-bert", "candidate")
    assert candidate.tags["metric.i2b2-2010.f1"]

    promote = subprocess.run(["prefect", "deployment", "run", "promote-model/local", "--watch"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=300)
    assert promote.returncode == 0, (promote.stdout + promote.stderr)[-4000:]
    assert client.get_model_version_by_alias("mt-clinical-bert", "production").version == candidate.version

    port = free_port()
    serve_env = env | {"MLFLOW_TRACKING_URI": mlflow_uri}
    server = subprocess.Popen(["mlflow", "models", "serve", "-m", "models:/mt-clinical-bert@production",
                               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=root, env=serve_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"dataframe_records": [{"text": "patient takes aspirin 81 mg daily ."},
                                                 {"a": "is aspirin safe ?", "b": "aspirin side effects ?"}]})
        answer = None
        for _ in range(120):
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body.encode(),
                                                 {"Content-Type": "application/json"})
                answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
                break
            except OSError:
                time.sleep(1)
        assert answer is not None, "mlflow models serve did not answer"
        text, pair = answer["predictions"]
        assert set(text["entities"]) == {"n2c2-2018", "i2b2-2014", "i2b2-2012", "i2b2-2010", "quaero-2014"}
        assert set(pair["pair"]) == {"mednli", "medrqe", "n2c2-2019"}
    finally:
        server.terminate()
        server.wait(timeout=30)

    # the stack stops: the services and everything the worker started for the two runs above, ports closed
    pids = local_service_pids(root)
    assert len(pids) >= 3, pids
    stop_and_check(root, root / ".mtclin", env, pids, [int(env["PREFECT_PORT"]), int(env["MLFLOW_PORT"])])
