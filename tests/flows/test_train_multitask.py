from __future__ import annotations

from pathlib import Path

import pytest

from flows.train_multitask import train_multitask
from mtclin.corpora.registry import CORPORA


def flow_params(project: Path, model_dir: Path, **changes) -> dict:
    return dict(project_dir=str(project), encoder=str(model_dir), epochs=1, ner_batch_size=8, pair_batch_size=8,
                learning_rate=1e-3) | changes


@pytest.mark.slow
def test_flow_end_to_end_tracks_registers_and_resumes(prefect_harness, project: Path, tiny):
    from mtclin.tracking import store

    _, model_dir = tiny
    out = train_multitask(**flow_params(project, model_dir))
    assert set(out["metrics"]) == set(CORPORA)
    assert (project / "processed" / "i2b2-2010" / "train.parquet").is_file()  # DVC stages ran
    client = store.client(store.tracking_uri(project))
    assert store.tracking_uri(project) == f"sqlite:///{project / 'mlflow.db'}"
    run = client.get_run(out["run_id"])
    for corpus in CORPORA:
        assert any(key.startswith(f"{corpus}/") for key in run.data.metrics)
        assert f"best/{corpus}/" in " ".join(run.data.metrics)
    assert run.data.params["schedule"] == "round_robin"
    assert run.data.tags["mtclin.dvc.data"]
    history = client.get_metric_history(out["run_id"], "i2b2-2010/f1")
    assert [m.step for m in history] == [0]
    version = client.get_model_version_by_alias("mt-clinical-bert", "candidate")
    assert str(version.version) == out["version"] == "1"
    # validation results were written beside the run, and hold counts only
    assert (Path(out["run_dir"]) / "validation" / "validation_report.json").is_file()

    # the same parameters again: DVC recomputes nothing and training resumes from the finished checkpoint
    again = train_multitask(**flow_params(project, model_dir))
    assert again["run_dir"] == out["run_dir"]
    assert again["metrics"] == out["metrics"]
    assert again["version"] == "2"
