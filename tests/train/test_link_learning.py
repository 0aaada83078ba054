"""The assertion and relation heads learn a handful of notes (the BIO learning test's approach: a tiny BERT
memorises them), alone, beside their source NER tasks (relations end to end), and under every schedule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mtclin.model.io import load_meta
from mtclin.train.loop import train
from mtclin.train.schedules import SCHEDULES
from tests.link_toys import link_config


def test_assertion_and_relations_reach_1_on_gold_and_end_to_end(linked_trained):
    best = linked_trained.history[linked_trained.best_epoch]["metrics"]
    assert best["i2b2-2010-assertion"]["accuracy"] == 1.0 and best["i2b2-2010-assertion"]["f1"] == 1.0
    assert set(best["i2b2-2010-assertion"]["per_class"]) == {"absent", "present", "possible", "conditional",
                                                             "hypothetical", "associated_with_someone_else"}
    for task in ("i2b2-2010-relations", "n2c2-2018-relations"):
        assert best[task]["f1"] == 1.0, task
        assert best[task]["end_to_end"]["f1"] == 1.0, task  # on the entities the NER task predicts
    assert best["n2c2-2018-relations"]["per_type"]["ADE-Drug"]["tp"] == 1
    # scored again from the saved model directory, once, on test
    test = linked_trained.test["metrics"]
    assert test["i2b2-2010-assertion"]["accuracy"] == 1.0 and test["n2c2-2018-relations"]["f1"] == 1.0


def test_the_saved_model_records_the_link_tasks(linked_trained):
    tasks = {t.name: t for t in load_meta(linked_trained.model_dir).tasks}
    assert tasks["i2b2-2010-assertion"].source == "i2b2-2010"
    assert tasks["i2b2-2010-assertion"].entity_types == ("problem",)
    rel = tasks["n2c2-2018-relations"]
    assert ("Strength", "Drug") in rel.type_pairs and rel.max_pair_chars == 300 and rel.max_span_width == 16


def test_a_link_task_alone_reads_its_source_tables(linked_processed: Path, tiny, tmp_path: Path):
    result = train(link_config(linked_processed, tiny, tmp_path / "run", corpora=("i2b2-2010-assertion",), epochs=25))
    assert result.history[result.best_epoch]["metrics"]["i2b2-2010-assertion"]["accuracy"] == 1.0


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_schedule_trains_the_link_tasks(schedule: str, linked_processed: Path, tiny, tmp_path: Path):
    losses: list[dict[str, float]] = []
    corpora = ("i2b2-2010-assertion", "n2c2-2018-relations")
    result = train(link_config(linked_processed, tiny, tmp_path / "run", corpora=corpora, schedule=schedule,
                               max_steps=4), on_step=lambda step, loss: losses.append(loss))
    assert result.steps == 4
    trained = {task for step in losses for task in step}
    assert trained == set(corpora) or schedule in ("proportional", "temperature")
    assert all(math.isfinite(v) for step in losses for v in step.values())


def test_relation_limit_is_a_setting(linked_processed: Path, tiny, tmp_path: Path):
    result = train(link_config(linked_processed, tiny, tmp_path / "run", corpora=("n2c2-2018-relations",), epochs=1,
                               relation_max_chars=0))
    metrics = result.history[0]["metrics"]["n2c2-2018-relations"]
    # only touching arguments are candidates at 0 characters: the farther gold relations are misses
    assert metrics["max_pair_chars"] == 0 and metrics["recall"] < 1.0
