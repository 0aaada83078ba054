"""`mlflow models serve -m models:/mt-clinical-bert@production --env-manager local` answers every task (real
server in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mtclin.tracking import promotion, runs, store
from tests.tracking import sqlite_uri, toy_config
from tests.scratch import BIN, free_port, venv_env
from tests.toy_tasks import write_toy_processed


@pytest.mark.slow
def test_mlflow_models_serve_answers_every_task(tiny: tuple[Any, Path], tmp_path: Path) -> None:
    uri = sqlite_uri(tmp_path)
    config = toy_config(tmp_path, tiny[1], write_toy_processed(tmp_path / "processed"))
    runs.track_training(config, uri=uri, register=True, system_metrics=False, root=tmp_path)
    promotion.promote(client=store.client(uri))
    port = free_port()
    bin_dir = str(BIN)
    env = venv_env(MLFLOW_TRACKING_URI=uri)  # `mlflow models serve` execs `uvicorn` from PATH
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(Path(bin_dir) / "mlflow"), "models", "serve", "-m",
                                   f"models:/{store.DEFAULT_MODEL_NAME}@production", "--env-manager", "local",
                                   "-p", str(port)], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        body = json.dumps({"dataframe_records": [{"text": "aspirin daily ."},
                                                 {"a": "fever ?", "b": "cough ?"}]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body,
                                         {"Content-Type": "application/json"})
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    predictions = json.load(response)["predictions"]
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"server did not answer: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert set(predictions[0]["entities"]) == {"n2c2-2018"}
    assert set(predictions[1]["pair"]) == {"medrqe", "n2c2-2019"}
