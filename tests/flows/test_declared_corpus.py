"""A corpus of one's own, added by corpora.yaml alone: inspected, preprocessed by `dvc repro`, trained as a ninth
head with the eight built-ins, in Table 2, evaluated, registered and answered by the served model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow.pyfunc
import pytest

from flows.evaluate_model import evaluate_model
from flows.train_multitask import train_multitask
from mtclin.corpora.registry import CORPORA
from mtclin.tracking import store
from mtclin.tracking.compare import search_training_runs, table2_rows
from tests.scratch import venv_env

FIXTURE = Path(__file__).resolve().parents[1] / "corpora" / "fixtures" / "declared"


@pytest.mark.slow
def test_a_declared_brat_corpus_goes_through_the_whole_pipeline(prefect_harness, project: Path, tiny):
    _, model_dir = tiny
    shutil.copytree(FIXTURE / "ward-notes", project / "data" / "ward-notes")
    shutil.copy(FIXTURE / "corpora.yaml", project / "corpora.yaml")
    inspected = subprocess.run([sys.executable, "-m", "mtclin.cli", "inspect", "ward-notes", "data/ward-notes",
                                "--json"], cwd=project, env=venv_env(), capture_output=True, text=True)
    assert inspected.returncode == 0, inspected.stderr[-2000:]
    stats = json.loads(inspected.stdout)
    assert stats["problems"]["count"] == 0 and set(stats["splits"]) == {"train", "dev", "test"}

    corpora = [*CORPORA, "ward-notes"]
    out = train_multitask(project_dir=str(project), encoder=str(model_dir), corpora=corpora, epochs=1,
                          ner_batch_size=8, pair_batch_size=8, learning_rate=1e-3)
    assert set(out["metrics"]) == set(corpora)
    assert (project / "processed" / "ward-notes" / "dev.parquet").is_file()  # its DVC stage ran
    labels = json.loads((project / "processed" / "ward-notes" / "stats.json").read_text())["labels"]
    assert labels == ["Drug", "Problem", "Test"]  # taken from train

    uri = store.tracking_uri(project)
    rows = {r.corpus: r for r in table2_rows(search_training_runs(uri=uri))}
    assert list(rows)[-1] == "ward-notes" and rows["ward-notes"].mean("round_robin") == pytest.approx(
        out["metrics"]["ward-notes"]["f1"])

    evaluated = evaluate_model(model="models:/mt-clinical-bert@candidate", corpus="ward-notes",
                               data_dir=str(project / "data" / "ward-notes"), project_dir=str(project))
    assert evaluated["metrics"]["ward-notes"]["f1"] == pytest.approx(out["metrics"]["ward-notes"]["f1"])

    with store.using(uri):
        served = mlflow.pyfunc.load_model("models:/mt-clinical-bert@candidate")
    [answer] = served.predict([{"text": "Given aspirin for chest pain on the ward."}])
    assert set(answer["entities"]) == {"n2c2-2018", "i2b2-2014", "i2b2-2012", "i2b2-2010", "quaero-2014",
                                       "ward-notes"}
