"""Note text never reaches MLflow: the canary, planted in every training note and pair and sent in prediction
requests, appears in no param, tag, metric name, run name, database row or artifact (the model directory, which
holds no text either, is the only place exempt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import polars as pl

from mtclin.corpora.samples.common import CANARY
from mtclin.tracking import compare, promotion, registry, runs, store
from tests.tracking import sqlite_uri, toy_config, write_canary_processed

REPO = Path(__file__).resolve().parents[2]


def test_canary_stays_out_of_mlflow(tiny: tuple[Any, Path], tmp_path: Path) -> None:
    processed = write_canary_processed(tmp_path / "processed")
    assert CANARY in pl.read_parquet(processed / "medrqe" / "train.parquet")["a"][0]  # it is in the training data
    uri = sqlite_uri(tmp_path)
    done = runs.track_training(toy_config(tmp_path, tiny[1], processed), uri=uri, register=True, log_every=1,
                               system_metrics=False, root=REPO)
    client = store.client(uri)
    promotion.promote(client=client)
    compare.log_table2(done.run_id, [client.get_run(done.run_id)], uri)
    with store.using(uri):
        model = mlflow.pyfunc.load_model(f"models:/{store.DEFAULT_MODEL_NAME}@{registry.PRODUCTION}")
    answers = model.predict([{"id": "r1", "text": f"{CANARY} takes aspirin"},
                             {"a": f"{CANARY} has fever", "b": "is it serious ?"}])
    assert len(answers) == 2

    run = client.get_run(done.run_id)
    texts = [run.info.run_name, *run.data.params, *run.data.params.values(), *run.data.tags,
             *run.data.tags.values(), *run.data.metrics]
    for version in client.search_model_versions(f"name='{store.DEFAULT_MODEL_NAME}'"):
        texts += [*version.tags, *version.tags.values(), *version.aliases, version.description or ""]
    for logged in client.search_logged_models([run.info.experiment_id]):
        texts += [logged.name, *logged.tags, *logged.tags.values(), *logged.params, *logged.params.values()]
    assert not [t for t in texts if CANARY.lower() in str(t).lower()]

    assert CANARY.encode() not in (tmp_path / "mlflow.db").read_bytes()
    artifacts = tmp_path / "mlartifacts"
    scanned = [p for p in artifacts.rglob("*") if p.is_file() and "artifacts/model/" not in p.as_posix()]
    assert any(p.name == "MLmodel" for p in scanned) and any(p.suffix == ".png" for p in scanned)
    leaks = [p for p in scanned if CANARY.lower().encode() in p.read_bytes().lower()]
    assert not leaks
