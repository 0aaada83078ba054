"""`mlflow models serve -m models:/mt-clinical-bert@production --env-manager local` answers every task (real
server in a subprocess)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtclin.tracking import promotion, runs, store
from tests.tracking import sqlite_uri, toy_config
from tests.scratch import mlflow_models_serve
from tests.toy_tasks import write_toy_processed


@pytest.mark.slow
def test_mlflow_models_serve_answers_every_task(tiny: tuple[Any, Path], tmp_path: Path) -> None:
    uri = sqlite_uri(tmp_path)
    config = toy_config(tmp_path, tiny[1], write_toy_processed(tmp_path / "processed"))
    runs.track_training(config, uri=uri, register=True, system_metrics=False, root=tmp_path)
    promotion.promote(client=store.client(uri))
    rows = [{"text": "aspirin daily ."}, {"a": "fever ?", "b": "cough ?"}]
    predictions = mlflow_models_serve(f"models:/{store.DEFAULT_MODEL_NAME}@production", rows, tmp_path,
                                      MLFLOW_TRACKING_URI=uri)
    assert set(predictions[0]["entities"]) == {"n2c2-2018"}
    assert set(predictions[1]["pair"]) == {"medrqe", "n2c2-2019"}
