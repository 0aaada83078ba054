"""One definition of the training settings: the CLI options, run directories and resumption all derive from it."""

from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from mtclin.config_args import add_config_options, config_from_options
from mtclin.corpora.registry import CORPORA
from mtclin.run_dirs import run_key
from mtclin.train.config import SELECTIONS, TrainConfig, selection_splits, setting_choices
from mtclin.train.loop import config_changes
from mtclin.train.schedules import SCHEDULES


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_config_options(parser, TrainConfig, setting_choices(), {"output_dir": ["--output"]})
    return config_from_options(parser.parse_args(argv), TrainConfig, {"corpora": CORPORA})


def test_every_setting_is_an_option_with_its_type() -> None:
    assert parse() == TrainConfig()
    config = parse("--corpora", "medrqe,quaero-2014", "--epochs", "7", "--learning-rate", "1e-4", "--no-amp",
                   "--selection", "paper", "--batch-size-for", "medrqe=16", "--max-length-for", "quaero-2014=256",
                   "--output", "runs/x")
    assert config == replace(TrainConfig(), corpora=("medrqe", "quaero-2014"), epochs=7, learning_rate=1e-4,
                             amp=False, selection="paper", batch_sizes={"medrqe": 16},
                             max_lengths={"quaero-2014": 256}, output_dir="runs/x")
    assert parse("--corpora", "all").corpora == CORPORA


def test_choices_come_from_the_registries_and_bad_values_are_refused(capsys) -> None:
    assert setting_choices() == {"schedule": SCHEDULES.names(), "selection": tuple(SELECTIONS)}
    with pytest.raises(SystemExit):
        parse("--schedule", "zigzag")
    assert "round_robin" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--batch-size-for 'medrqe': expected TASK=INTEGER"):
        parse("--batch-size-for", "medrqe")
    with pytest.raises(ValueError, match="unknown selection 'best'"):
        selection_splits("best")


def test_a_config_on_fewer_corpora_drops_the_other_tasks_settings() -> None:
    config = TrainConfig(batch_sizes={"medrqe": 8, "mednli": 4}, ner_heads={"quaero-2014": "span"},
                         max_span_widths={"quaero-2014": 12})
    assert config.on_corpora(("medrqe",)) == replace(TrainConfig(corpora=("medrqe",)), batch_sizes={"medrqe": 8})
    quaero = config.on_corpora(("quaero-2014",))
    assert (quaero.ner_heads, quaero.max_span_widths, quaero.batch_sizes) == ({"quaero-2014": "span"},
                                                                              {"quaero-2014": 12}, {})


def test_run_key_ignores_defaults_and_reporting_but_not_results() -> None:
    defaults = TrainConfig().to_dict()
    data = {"medrqe": "md5-a"}
    base = run_key(TrainConfig(epochs=5).to_dict(), data, defaults)
    assert run_key(TrainConfig(epochs=5, progress=False, log_every_steps=7).to_dict(), data, defaults) == base
    assert run_key(TrainConfig(epochs=8, patience=1).to_dict(), data, defaults) == base  # when it stops
    # a setting that predates the key (absent from an old config dict) at its default keeps the same key
    old = {k: v for k, v in TrainConfig(epochs=5).to_dict().items() if k != "patience"}
    assert run_key(old, data, defaults) == base
    assert run_key(TrainConfig(epochs=5, seed=1).to_dict(), data, defaults) != base
    assert run_key(TrainConfig(epochs=5).to_dict(), {"medrqe": "md5-b"}, defaults) != base


def test_a_checkpoint_resumes_only_under_the_same_settings() -> None:
    saved = TrainConfig(corpora=("medrqe",), seed=3).to_dict()
    assert config_changes(saved, TrainConfig(corpora=("medrqe",), seed=3, epochs=9, patience=0)) == []
    assert config_changes(saved, TrainConfig(corpora=("medrqe",), seed=4, learning_rate=1e-3)) == [
        "learning_rate", "seed"]
    older = {k: v for k, v in saved.items() if k != "selection"}  # written before `selection` existed
    assert config_changes(older, TrainConfig(corpora=("medrqe",), seed=3)) == []
    assert config_changes(older, TrainConfig(corpora=("medrqe",), seed=3, selection="paper")) == ["selection"]
