"""Note text never reaches the team stack's stores: after a deployment run, its promotion and prediction requests
(test_artifacts), the canary planted in every training note appears in no PostgreSQL database (pg_dump of
MLflow's, MLflow auth's and Prefect's), in no object of MLflow's bucket and in no server log. The DVC bucket is
the data store itself: it holds the notes by design, which shows the scan reads what the objects contain."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mtclin.corpora.samples.common import CANARY
from tests.team.conftest import Stack, clean_env

NEEDLE = CANARY.lower().encode()


@pytest.mark.slow
def test_canary_stays_out_of_databases_buckets_and_logs(team: Stack, trained) -> None:
    pushed = subprocess.run([sys.executable, "-m", "dvc", "push", "-q"], cwd=team.root, capture_output=True,
                            text=True, env=clean_env() | {"DVC_NO_ANALYTICS": "1"})
    assert pushed.returncode == 0, pushed.stderr[-2000:]

    for database in ("mlflow", "mlflow_auth", "prefect"):
        dump = team.pg_dump(database)
        assert len(dump) > 1000, f"pg_dump of {database} is empty"
        assert NEEDLE not in dump.lower(), f"the canary is in PostgreSQL database {database}"

    artifacts = team.objects("mtclin-mlflow")
    assert any(k.endswith("/MLmodel") for k in artifacts) and any(k.endswith(".png") for k in artifacts)
    leaks = sorted(k for k, body in artifacts.items() if NEEDLE in body.lower())
    assert not leaks, f"the canary is in MLflow artifacts: {leaks[:5]}"

    logs = sorted(team.team_dir.glob("*.log"))
    assert any(p.name == "prefect-worker.log" for p in logs)
    assert not [p.name for p in logs if NEEDLE in p.read_bytes().lower()]

    data = team.objects("mtclin-dvc")
    assert any(NEEDLE in body.lower() for body in data.values()), "the scan found no canary even in the raw notes"
    assert os.environ.get("MLFLOW_TRACKING_PASSWORD") is None  # the test itself holds no borrowed credential
