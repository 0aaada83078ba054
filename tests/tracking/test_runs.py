from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pytest

from mtclin.tracking import runs, store
from mtclin.train.config import TrainConfig
from tests.tracking import sqlite_uri, toy_config, write_canary_processed
from tests.toy_tasks import TOY_CORPORA

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tracked(tiny: tuple[Any, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[runs.TrackedTraining, str]:
    tmp = tmp_path_factory.mktemp("tracked")
    config = toy_config(tmp, tiny[1], write_canary_processed(tmp / "processed"))
    uri = sqlite_uri(tmp)
    mlflow.set_system_metrics_sampling_interval(0.2)  # a few samples within a seconds-long run
    try:
        return runs.track_training(config, uri=uri, parent="0123456789abcdef", log_every=2, root=REPO), uri
    finally:
        mlflow.set_system_metrics_sampling_interval(None)


def test_run_name_params_and_tags(tracked) -> None:
    done, uri = tracked
    run = store.client(uri).get_run(done.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "round_robin-3tasks-seed0"
    params = run.data.params
    assert params["schedule"] == "round_robin" and params["epochs"] == "2" and params["learning_rate"] == "5e-05"
    assert json.loads(params["corpora"]) == list(TOY_CORPORA)
    assert params["batch_sizes"] == "{}"
    assert params["selection"] == "dev" and params["patience"] == "2"
    tags = run.data.tags
    assert tags["mtclin.selection"] == "dev" and tags["mtclin.stopped_early"] == "false"
    assert tags["mtclin.schedule"] == "round_robin"
    assert tags["mtclin.corpora"] == ",".join(TOY_CORPORA)
    assert tags["mtclin.seed"] == "0"
    assert tags["mtclin.parent"] == tags["mlflow.parentRunId"] == "0123456789abcdef"
    assert len(tags["mtclin.git.commit"]) == 40 and tags["mtclin.dvc.data"].endswith(".dir")
    assert tags["mtclin.finished"] == "true" and tags["mtclin.best_epoch"] == str(done.result.best_epoch)
    # the toy corpora were not made by `dvc repro`: the lineage says so
    assert tags["mtclin.dvc.n2c2-2018.outs_match"] == "false"


def test_metrics_per_task_per_epoch(tracked) -> None:
    done, uri = tracked
    client = store.client(uri)
    for name in ("n2c2-2018/f1", "n2c2-2018/precision", "n2c2-2018/per_type/Drug/f1", "medrqe/accuracy",
                 "medrqe/macro_f1", "n2c2-2019/pearson", "n2c2-2019/spearman", "score", "medrqe/train_loss"):
        history = client.get_metric_history(done.run_id, name)
        assert sorted(m.step for m in history) == [0, 1], name
    by_epoch = {m.step: m.value for m in client.get_metric_history(done.run_id, "n2c2-2019/pearson")}
    assert by_epoch == {h["epoch"]: h["metrics"]["n2c2-2019"]["pearson"] for h in done.result.history}
    best = done.result.history[done.result.best_epoch]
    metrics = client.get_run(done.run_id).data.metrics
    assert metrics["best/score"] == pytest.approx(best["score"])
    assert metrics["best/medrqe/accuracy"] == pytest.approx(best["metrics"]["medrqe"]["accuracy"])
    assert metrics["best/epoch"] == done.result.best_epoch
    assert not any("confusion" in k for k in metrics)
    # the selected model on test, once: what Table 2 and the registry read
    test = done.result.test
    assert metrics["test/score"] == pytest.approx(test["score"])
    assert metrics["test/n2c2-2018/f1"] == pytest.approx(test["metrics"]["n2c2-2018"]["f1"])
    assert metrics["test/n2c2-2018/per_type/Drug/f1"] == pytest.approx(
        test["metrics"]["n2c2-2018"]["per_type"]["Drug"]["f1"])
    assert metrics["steps"] == done.result.steps and metrics["best/step"] == best["step"]


def test_step_losses_and_system_metrics(tracked) -> None:
    done, uri = tracked
    client = store.client(uri)
    steps = [m.step for m in client.get_metric_history(done.run_id, "n2c2-2018/loss")]
    assert steps and all(s % 2 == 0 for s in steps) and max(steps) <= done.result.steps
    assert any(k.startswith("system/") for k in client.get_run(done.run_id).data.metrics)


def test_plots_and_files_are_artifacts(tracked) -> None:
    done, uri = tracked
    client = store.client(uri)
    files = {a.path for d in ("plots/learning_curves", "plots/per_type_f1", "plots/confusion")
             for a in client.list_artifacts(done.run_id, d)}
    assert files == {f"plots/learning_curves/{t}.png" for t in TOY_CORPORA} | {
        "plots/per_type_f1/n2c2-2018.png", "plots/confusion/medrqe.png"}
    local = Path(client.download_artifacts(done.run_id, "plots/confusion/medrqe.png"))
    assert local.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(Path(client.download_artifacts(done.run_id, "config.json")).read_text())["epochs"] == 2
    assert len(json.loads(Path(client.download_artifacts(done.run_id, "metrics/history.json")).read_text())) == 2


def test_single_task_run_name_and_schedule_tag() -> None:
    config = TrainConfig(corpora=("medrqe",), seed=3)
    assert runs.run_name(config) == "single_task-medrqe-seed3"
    assert runs.run_tags(config)[runs.SCHEDULE_TAG] == "single_task"


def test_long_params_are_cut_to_the_limit() -> None:
    config = TrainConfig(batch_sizes={f"task{i:05d}": i for i in range(1000)})
    value = runs.config_params(config)["batch_sizes"]
    assert len(value) == 6000 and value.endswith("(cut; see config.json)")


def test_metric_names_only_use_allowed_characters() -> None:
    names = runs.task_metrics("quaero-2014", {"f1": 1.0, "per_type": {"A&B (x)": {"f1": 0.5, "support": 2}},
                                              "confusion": [[1]], "labels": ["x"]})
    assert names == {"quaero-2014/f1": 1.0, "quaero-2014/per_type/A_B _x_/f1": 0.5,
                     "quaero-2014/per_type/A_B _x_/support": 2.0}


def test_a_failing_training_fails_the_run(tmp_path: Path) -> None:
    uri = sqlite_uri(tmp_path)

    def broken(config, on_step=None, on_epoch=None, log=None, init_dir=None):
        on_step(1, {"medrqe": 0.5})
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        runs.track_training(TrainConfig(corpora=("medrqe",)), uri=uri, system_metrics=False, root=tmp_path,
                            train_fn=broken)
    client = store.client(uri)
    [run] = client.search_runs([client.get_experiment_by_name(store.DEFAULT_EXPERIMENT).experiment_id])
    assert run.info.status == "FAILED" and run.data.tags["mtclin.schedule"] == "single_task"
