"""A span task learns nested entities (the BIO learning test's approach: a tiny BERT memorises a handful of notes),
alone and inside round robin, and trains under every schedule; its settings come from the config and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mtclin.config_args import add_config_options, config_from_options
from mtclin.model.io import load_meta
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from mtclin.train.schedules import SCHEDULES
from tests.span_toys import nested_docs, write_nested_processed
from tests.toy_tasks import write_toy_processed

SPAN = {"quaero-2014": "span"}


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("processed")
    write_toy_processed(root)  # medrqe (and the BIO toy tasks) for round robin
    return write_nested_processed(root)


def config(processed: Path, tiny, out: Path, **overrides) -> TrainConfig:
    values = dict(corpora=("quaero-2014",), processed_dir=str(processed), output_dir=str(out),
                  encoder=str(tiny[1]), epochs=30, learning_rate=3e-3, ner_batch_size=5, pair_batch_size=5,
                  dropout=0.0, seed=0, progress=False, patience=0, ner_heads=SPAN)
    return TrainConfig(**(values | overrides))


def test_span_head_learns_nested_entities(processed: Path, tiny, tmp_path: Path):
    result = train(config(processed, tiny, tmp_path / "run"))
    best = result.history[result.best_epoch]["metrics"]["quaero-2014"]
    nested = sum(1 for d in nested_docs() for e in d.entities
                 if any(o is not e and o.start < e.end and e.start < o.end for o in d.entities))
    assert best["nested_support"] == nested > 0
    assert best["f1"] == 1.0 and best["nested_recall"] == 1.0
    # the default width covers the widest gold entity here ("diabete de type 2"), and is reported
    assert best["max_span_width"] == 4 and best["recall_ceiling"] == 1.0
    test = result.test["metrics"]["quaero-2014"]
    assert test["f1"] == 1.0 and test["nested_recall"] == 1.0  # scored again from the saved model directory
    saved = load_meta(result.model_dir).tasks[0]
    assert saved.head == "span" and saved.max_span_width == 4 and saved.span_threshold == best["threshold"]


def test_round_robin_with_a_span_task_and_an_entailment_task(processed: Path, tiny, tmp_path: Path):
    result = train(config(processed, tiny, tmp_path / "run", corpora=("quaero-2014", "medrqe"), epochs=40))
    best = result.history[result.best_epoch]["metrics"]
    assert best["quaero-2014"]["f1"] == 1.0 and best["quaero-2014"]["nested_recall"] == 1.0
    assert best["medrqe"]["accuracy"] == 1.0


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_schedule_trains_a_span_task(schedule: str, processed: Path, tiny, tmp_path: Path):
    losses: list[dict[str, float]] = []
    result = train(config(processed, tiny, tmp_path / "run", corpora=("quaero-2014", "n2c2-2018"),
                          schedule=schedule, max_steps=3), on_step=lambda step, loss: losses.append(loss))
    assert result.steps == 3
    trained = {task for step in losses for task in step}
    assert "quaero-2014" in trained or schedule in ("proportional", "temperature")
    assert all(math.isfinite(v) for step in losses for v in step.values())


def test_span_task_as_the_only_task_of_a_single_task_run(processed: Path, tiny, tmp_path: Path):
    result = train(config(processed, tiny, tmp_path / "run", schedule="round_robin", epochs=1,
                          max_span_widths={"quaero-2014": 2}, tune_span_threshold=False, span_threshold=0.7))
    metrics = result.history[0]["metrics"]["quaero-2014"]
    assert metrics["max_span_width"] == 2 and metrics["threshold"] == 0.7
    assert metrics["recall_ceiling"] < 1.0  # a 3- and a 4-word entity are out of reach at width 2
    assert json.loads((tmp_path / "run" / "config.json").read_text())["ner_heads"] == SPAN


def test_cli_options_for_span_heads():
    import argparse

    parser = argparse.ArgumentParser()
    add_config_options(parser, TrainConfig)
    args = parser.parse_args(["--ner-head-for", "quaero-2014=span", "--max-span-width-for", "quaero-2014=6",
                              "--span-threshold", "0.3", "--no-tune-span-threshold"])
    cfg = config_from_options(args, TrainConfig)
    assert cfg.ner_heads == SPAN and cfg.max_span_widths == {"quaero-2014": 6}
    assert cfg.span_threshold == 0.3 and cfg.tune_span_threshold is False
    with pytest.raises(ValueError, match="ner_heads: quaero-2014='spam': use one of bio, span"):
        TrainConfig(ner_heads={"quaero-2014": "spam"})
    with pytest.raises(ValueError, match="max_span_widths: quaero-2014=0"):
        TrainConfig(max_span_widths={"quaero-2014": 0})
    with pytest.raises(ValueError, match="--ner-head-for 'quaero-2014': expected TASK=VALUE"):
        config_from_options(parser.parse_args(["--ner-head-for", "quaero-2014"]), TrainConfig)
