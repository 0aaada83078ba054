"""Nothing lost, nothing leaked, at the pipeline level: a tracking outage fails the run without a broken
`candidate`, concurrent runs stay apart, and no note text reaches MLflow, Prefect, GX reports, logs or DVC metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mtclin.corpora.samples.common import CANARY
from tests.scratch import BIN, free_port, venv_env


class MlflowServer:
    """A real `mlflow server` on SQLite; can be stopped and started again on the same store and port."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
             "--artifacts-destination", str(self.root / "mlartifacts")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env=venv_env())
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{self.uri}/health", timeout=2)
                return
            except OSError:
                time.sleep(1)
        raise RuntimeError("mlflow server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the server and its gunicorn/uvicorn workers
            self.process.wait(timeout=30)


@pytest.fixture
def mlflow_server(tmp_path: Path):
    server = MlflowServer(tmp_path / "tracking")
    (tmp_path / "tracking").mkdir()
    server.start()
    yield server
    server.stop()


def flow_process(project: Path, mlflow_uri: str, **params) -> subprocess.Popen:
    """`train_multitask(**params)` in its own process, against the harness's Prefect API and an MLflow server."""
    import prefect.settings

    code = ("import json, sys; from flows.train_multitask import train_multitask; "
            "print(json.dumps(train_multitask(**json.loads(sys.argv[1]))))")
    env = os.environ | {"PREFECT_API_URL": prefect.settings.PREFECT_API_URL.value(), "MLFLOW_TRACKING_URI": mlflow_uri,
                        "OMP_NUM_THREADS": "1", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                        "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    return subprocess.Popen([sys.executable, "-c", code, json.dumps({"project_dir": str(project)} | params)],
                            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_tracking_outage_registers_nothing_then_a_resumed_rerun_and_a_concurrent_run_stay_apart(
        prefect_harness, project: Path, tiny, mlflow_server: MlflowServer):
    """One scenario for both properties (each flow process costs its imports, DVC, GX and registration): an outage
    fails the run without a broken `candidate`; then its rerun resumes while a second run (another seed) trains
    beside it, and the two keep separate run directories, MLflow runs and model versions."""
    import mlflow

    _, model_dir = tiny
    common = dict(encoder=str(model_dir), ner_batch_size=8, pair_batch_size=8, learning_rate=1e-3)
    interrupted = dict(common, seed=1, epochs=6)
    run = flow_process(project, mlflow_server.uri, **interrupted)
    deadline = time.monotonic() + 300
    while not list((project / "runs").glob("*/checkpoints/latest")):  # the first epoch is done
        assert run.poll() is None, run.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint within 5 minutes"
        time.sleep(0.5)
    mlflow_server.stop()
    _, stderr = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "Failed" in stderr and ("Connection" in stderr or "MlflowException" in stderr or "refused" in stderr)

    mlflow_server.start()
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.uri, registry_uri=mlflow_server.uri)
    assert not client.search_model_versions("name='mt-clinical-bert'")  # no version, so no broken candidate
    run_dir = next((project / "runs").glob("*/checkpoints")).parent
    checkpoint = json.loads((run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()
                             / "state.json").read_text())
    assert 0 < checkpoint["epoch"] < interrupted["epochs"]

    # the rerun (same run directory, resumed from the checkpoint) and another seed's run, at the same time
    runs = [flow_process(project, mlflow_server.uri, **interrupted),
            flow_process(project, mlflow_server.uri, **dict(common, seed=2, epochs=2))]
    results = []
    for process in runs:
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    rerun, other = results
    assert rerun["run_dir"] == str(run_dir) and other["run_dir"] != rerun["run_dir"]
    assert rerun["resumed_from_step"] >= checkpoint["step"] > 0 and other["resumed_from_step"] == 0
    for result, seed in ((rerun, 1), (other, 2)):
        assert (Path(result["run_dir"]) / "model" / "tasks.json").is_file()
        assert json.loads((Path(result["run_dir"]) / "config.json").read_text())["seed"] == seed
        assert client.get_run(result["run_id"]).data.params["seed"] == str(seed)
    versions = {str(v.version): v for v in client.search_model_versions("name='mt-clinical-bert'")}
    assert sorted(versions) == sorted((rerun["version"], other["version"])) == ["1", "2"]
    assert {versions[r["version"]].run_id for r in (rerun, other)} == {rerun["run_id"], other["run_id"]}
    assert str(client.get_model_version_by_alias("mt-clinical-bert", "candidate").version) == "2"  # the last one


def _files_holding(root: Path, needle: bytes, skip=lambda p: False) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not skip(p) and needle in p.read_bytes()]


@pytest.mark.slow
def test_phi_canary_never_leaves_the_training_boundary(prefect_harness, project: Path, tiny, capfd):
    import mlflow
    import prefect.settings

    from flows.promote import promote_model
    from flows.train_multitask import train_multitask

    _, model_dir = tiny
    needle = CANARY.encode()
    assert _files_holding(project / "data", needle), "the sample corpora must carry the canary"
    out = train_multitask(project_dir=str(project), encoder=str(model_dir), epochs=1, ner_batch_size=8,
                          pair_batch_size=8, learning_rate=1e-3)
    assert promote_model(project_dir=str(project))["accepted"]
    # serve one request that itself contains the canary
    from mtclin.tracking import store

    with store.using(store.tracking_uri(project)):
        served = mlflow.pyfunc.load_model("models:/mt-clinical-bert@production")
        answer = served.predict([{"text": f"Seen by Dr. {CANARY} for chest pain ."}])
    assert "entities" in answer[0]

    # MLflow: the database and every artifact except the model's weights and tokenizer
    def model_payload(path: Path) -> bool:
        return path.suffix == ".safetensors" or "tokenizer" in path.parts
    assert needle not in (project / "mlflow.db").read_bytes()
    assert _files_holding(project / "mlartifacts", needle, model_payload) == []
    # Prefect: its database and the flow runs' logs
    db = prefect.settings.get_current_settings().server.database.connection_url.get_secret_value()
    db_path = Path(db.split(":///", 1)[1])
    for suffix in ("", "-wal", "-shm"):
        part = db_path.with_name(db_path.name + suffix)
        if part.exists():
            assert needle not in part.read_bytes(), part
    # GX results and Data Docs, run outputs other than the model, DVC metrics
    run_dir = Path(out["run_dir"])
    assert _files_holding(run_dir, needle, lambda p: model_payload(p) or p.suffix == ".pt") == []
    assert list((run_dir / "validation").rglob("*.html")), "Data Docs were built"
    assert _files_holding(project / "processed", needle, lambda p: p.suffix == ".parquet") == []
    assert needle not in (project / "dvc.lock").read_bytes()
    # everything printed
    captured = capfd.readouterr()
    assert CANARY not in captured.out and CANARY not in captured.err
