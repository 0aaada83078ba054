"""Honest model selection: the epoch is chosen on dev (early stopping with patience), test is scored once for the
chosen model; the paper's protocol (train+dev, best epoch on test) only when asked for, and labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtclin.evaluate.saved import evaluate_saved_model
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from tests.toy_tasks import TOY_CORPORA, write_toy_processed


@pytest.fixture(scope="module")
def toy_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_processed(tmp_path_factory.mktemp("processed"))


def config(processed: Path, encoder: Path, out: Path, **changes) -> TrainConfig:
    values = dict(corpora=TOY_CORPORA, processed_dir=str(processed), output_dir=str(out), encoder=str(encoder),
                  epochs=5, learning_rate=1e-3, ner_batch_size=2, pair_batch_size=2, seed=0, progress=False,
                  device="cpu")
    return TrainConfig(**(values | changes))


def test_no_better_dev_score_for_patience_epochs_stops_training(toy_processed: Path, tiny, tmp_path: Path):
    # learning rate 0: the dev score never improves on epoch 0's
    result = train(config(toy_processed, tiny[1], tmp_path / "run", learning_rate=0.0, patience=2))
    assert result.stopped_early and result.finished
    assert [h["epoch"] for h in result.history] == [0, 1, 2] and result.best_epoch == 0
    assert {h["split"] for h in result.history} == {"dev"}
    assert result.steps == result.history[-1]["step"] and result.selection == "dev"
    # the selected model, scored on test once, from the saved directory
    expected = evaluate_saved_model(result.model_dir, toy_processed, TOY_CORPORA, split="test")
    assert result.test == expected
    assert json.loads((tmp_path / "run" / "test_metrics.json").read_text()) == json.loads(json.dumps(expected))
    # re-running the finished run changes nothing
    again = train(config(toy_processed, tiny[1], tmp_path / "run", learning_rate=0.0, patience=2))
    assert again.history == result.history and again.test == result.test and again.stopped_early
    # more patience (and epochs) continues the run from its checkpoint: the stop is decided again, not replayed
    longer = train(config(toy_processed, tiny[1], tmp_path / "run", learning_rate=0.0, patience=3, epochs=6))
    assert [h["epoch"] for h in longer.history] == [0, 1, 2, 3] and longer.stopped_early
    assert longer.resumed_from_step == result.steps and longer.steps > result.steps and longer.best_epoch == 0


def test_paper_protocol_trains_on_train_plus_dev_and_selects_on_test(toy_processed: Path, tiny, tmp_path: Path):
    dev = train(config(toy_processed, tiny[1], tmp_path / "dev", epochs=1))
    paper = train(config(toy_processed, tiny[1], tmp_path / "paper", epochs=1, selection="paper"))
    assert paper.history[0]["split"] == "test" and paper.selection == "paper"
    # dev (a copy of train in the toy tables) joins the training data: more batches per epoch
    assert paper.steps > dev.steps
    best = paper.history[paper.best_epoch]
    assert paper.test == {"metrics": best["metrics"], "score": best["score"]}


def test_progress_lines_reach_the_log_and_a_changed_config_does_not_resume(toy_processed: Path, tiny,
                                                                           tmp_path: Path):
    lines: list[str] = []
    train(config(toy_processed, tiny[1], tmp_path / "run", epochs=1, log_every_steps=3, patience=0),
          log=lines.append)
    *steps, epoch = lines
    assert steps and all(line.startswith("step ") and " examples/s ETA " in line for line in steps)
    assert steps[0].startswith("step 3/")
    # and one line per evaluated epoch: every task's primary metric on dev, the selecting score, the best epoch
    assert epoch.startswith("epoch 0 (dev): ") and epoch.endswith(", best epoch 0")
    assert all(f"{task} " in epoch for task in TOY_CORPORA) and "; score " in epoch
    with pytest.raises(ValueError, match=r"another configuration \(differs in learning_rate\)"):
        train(config(toy_processed, tiny[1], tmp_path / "run", epochs=1, learning_rate=5e-4))
