"""`mtclin train --corpora all` on the sample corpora trains eight heads; `mtclin predict` serves the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from mtclin.corpora.registry import CORPORA
from mtclin.corpora.samples import write_samples
from mtclin.preprocess.run import preprocess_corpus
from mtclin.preprocess.tables import PreprocessConfig


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    write_samples(root / "data", scale=0.3)
    for corpus in CORPORA:
        preprocess_corpus(corpus, root / "data" / corpus, root / "processed" / corpus, PreprocessConfig())
    return root / "processed"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "mtclin.cli", *args], capture_output=True, text=True, env=env)


def cli_here(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """``mtclin ARGS`` through the same entry point in this process (its imports paid once, not per call)."""
    from mtclin.cli import main

    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["mtclin", *args], code, captured.out, captured.err)


def check_run(out: Path, done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    history = json.loads((out / "metrics.json").read_text())
    metrics = history[-1]["metrics"]
    assert set(metrics) == set(CORPORA)
    assert {"f1", "precision", "recall", "per_type"} <= set(metrics["i2b2-2010"])
    assert {"accuracy", "macro_f1", "confusion"} <= set(metrics["mednli"])
    assert {"pearson", "spearman"} <= set(metrics["n2c2-2019"])
    assert set(history[-1]["train_loss"]) == set(CORPORA)  # every head was trained
    for corpus in CORPORA:
        assert f"{corpus}:" in done.stdout  # per-task metrics printed


def test_train_all_eight_heads_then_predict_and_evaluate_on_the_releases(processed: Path, tiny, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture):
    _, model_dir = tiny
    out = tmp_path / "run"
    done = cli("train", "--corpora", "all", "--processed-dir", str(processed), "--encoder", str(model_dir),
               "--epochs", "1", "--schedule", "round_robin", "--output", str(out), "--no-progress")
    check_run(out, done)
    assert "selection dev" in done.stdout and "test (selected model) i2b2-2010:" in done.stdout
    test = json.loads((out / "test_metrics.json").read_text())
    assert set(test["metrics"]) == set(CORPORA)
    # `mtclin evaluate` on the raw releases scores exactly what training scored on the processed test split
    data = processed.parent / "data"
    model = str(out / "model")
    for corpus in ("i2b2-2010", "medrqe", "n2c2-2019"):
        done = cli_here(capsys, "evaluate", "--model", model, "--corpus", corpus, "--data", str(data / corpus),
                        "--json")
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        assert report["split"] == "test" and report["problems"] == 0 and report["model_version"] is None
        assert report["metrics"][corpus] == test["metrics"][corpus]
    # dev of a release without one is the same carve-out preprocessing made
    dev = json.loads(cli_here(capsys, "evaluate", "--model", model, "--corpus", "medrqe", "--data",
                              str(data / "medrqe"), "--split", "dev", "--json").stdout)
    assert dev["examples"] == len(pl.read_parquet(processed / "medrqe" / "dev.parquet"))
    human = cli_here(capsys, "evaluate", "--model", model, "--corpus", "i2b2-2010", "--data", str(data / "i2b2-2010"))
    assert "\ni2b2-2010: precision=" in human.stdout and "\n  problem: precision=" in human.stdout  # per type
    wrong = cli_here(capsys, "evaluate", "--model", model, "--corpus", "i2b2-2010", "--data", str(data / "i2b2-2010"),
                     "--task", "medrqe")
    assert wrong.returncode == 2 and "task 'medrqe' is nli but corpus 'i2b2-2010' is ner" in wrong.stderr
    missing = cli_here(capsys, "evaluate", "--model", str(tmp_path), "--corpus", "medrqe", "--data",
                       str(data / "medrqe"))
    assert missing.returncode == 2 and "not a saved mtclin model directory" in missing.stderr
    request = json.dumps({"text": "Patient given aspirin 81 mg for chest pain."})
    served = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(out / "model")],
                            input=request + "\n", capture_output=True, text=True)
    assert served.returncode == 0, served.stderr[-2000:]
    answer = json.loads(served.stdout)
    assert set(answer["entities"]) == {"n2c2-2018", "i2b2-2014", "i2b2-2012", "i2b2-2010", "quaero-2014"}


@pytest.mark.slow
def test_real_minilm_encoder_trains_and_serves(processed: Path, tmp_path: Path):
    out = tmp_path / "minilm"
    done = cli("train", "--corpora", "all", "--processed-dir", str(processed), "--encoder", "minilm",
               "--epochs", "1", "--limit-train", "8", "--limit-eval", "4", "--output", str(out), "--no-progress")
    check_run(out, done)
    meta = json.loads((out / "model" / "tasks.json").read_text())
    assert meta["encoder_source"] == "minilm"
    config = json.loads((out / "model" / "encoder" / "config.json").read_text())
    assert config["hidden_size"] == 384 and config["num_hidden_layers"] == 6  # the real MiniLM-L6
    served = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(out / "model")],
                            input=json.dumps({"a": "Is aspirin safe?", "b": "Aspirin side effects?"}) + "\n",
                            capture_output=True, text=True)
    assert served.returncode == 0, served.stderr[-2000:]
    assert set(json.loads(served.stdout)["pair"]) == {"mednli", "medrqe", "n2c2-2019"}


@pytest.mark.parametrize("schedule", ["round_robin", "loss_sum", "proportional", "temperature"])
def test_link_tasks_train_from_the_sample_corpora_in_every_schedule(schedule: str, processed: Path, tiny,
                                                                     tmp_path: Path):
    """The assertion and relation tasks read what the readers and preprocessing made of the sample corpora's
    .ast / .rel files and R lines (not the link toys' hand-written tables), and train under every schedule."""
    import math

    from mtclin.train.config import TrainConfig
    from mtclin.train.loop import train
    from mtclin.train.schedules import SCHEDULES

    assert set(SCHEDULES) == {"round_robin", "loss_sum", "proportional", "temperature"}  # the parametrisation
    corpora = ("i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018-relations")
    losses: list[dict[str, float]] = []
    result = train(TrainConfig(corpora=corpora, processed_dir=str(processed), output_dir=str(tmp_path / "run"),
                               encoder=str(tiny[1]), schedule=schedule, max_steps=8, epochs=50, patience=0, seed=0,
                               device="cpu", progress=False), on_step=lambda step, loss: losses.append(loss))
    assert result.steps == 8
    trained = {task for step in losses for task in step}
    # the sampled schedules may skip a task in 8 steps; the others visit every one
    assert trained == set(corpora) or (schedule in ("proportional", "temperature") and trained < set(corpora))
    assert all(math.isfinite(v) for step in losses for v in step.values())
    counts = {t: len(pl.read_parquet(processed / s / "train.parquet").explode("rel_types")["rel_types"].drop_nulls())
              for t, s in (("i2b2-2010", "i2b2-2010"), ("n2c2-2018", "n2c2-2018"))}
    assert counts["i2b2-2010"] > 0 and counts["n2c2-2018"] > 0  # the samples carry relations to learn
