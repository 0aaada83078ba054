"""`head_learning_rate` gives the task heads their own learning rate: the optimizer gets an encoder group and a heads
group; left at 0 it is one group at `learning_rate`, as before the setting existed (old checkpoints resume)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtclin.model.io import build_model
from mtclin.tasks import task_for_corpus
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from mtclin.train.session import parameter_groups
from tests.span_toys import write_nested_processed


def test_groups_split_encoder_and_heads_only_when_the_rates_differ(tiny):
    model, _ = build_model(str(tiny[1]), (task_for_corpus("i2b2-2010"), task_for_corpus("medrqe")))
    everything = {id(p) for p in model.parameters()}
    for same in (TrainConfig(), TrainConfig(learning_rate=1e-3, head_learning_rate=1e-3)):
        (group,) = parameter_groups(model, same)
        assert {id(p) for p in group["params"]} == everything and "lr" not in group
    encoder, heads = parameter_groups(model, TrainConfig(learning_rate=1e-5, head_learning_rate=1e-3))
    assert "lr" not in encoder and heads["lr"] == 1e-3
    encoder_ids, head_ids = {id(p) for p in encoder["params"]}, {id(p) for p in heads["params"]}
    assert not encoder_ids & head_ids and encoder_ids | head_ids == everything
    assert head_ids == {id(p) for p in model.heads.parameters()}


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nested_processed(tmp_path_factory.mktemp("processed"))


def test_training_applies_each_groups_rate(processed: Path, tiny, tmp_path: Path):
    """An encoder at learning rate 0 under heads at 3e-3: the saved encoder is the initial one, bit for bit, while
    the span head learns."""
    config = TrainConfig(corpora=("quaero-2014",), processed_dir=str(processed), output_dir=str(tmp_path / "run"),
                         encoder=str(tiny[1]), epochs=8, learning_rate=0.0, head_learning_rate=3e-3,
                         ner_batch_size=5, dropout=0.0, seed=0, progress=False, patience=0,
                         ner_heads={"quaero-2014": "span"})
    result = train(config)
    initial = load_file(str(next(Path(tiny[1]).glob("*.safetensors"))))
    saved = load_file(str(next((result.model_dir / "encoder").glob("*.safetensors"))))
    shared = set(initial) & set(saved)
    assert shared and all(torch.equal(initial[k], saved[k]) for k in shared)
    losses = [epoch["train_loss"]["quaero-2014"] for epoch in result.history]
    assert losses[-1] < 0.5 * losses[0], losses  # the head alone was trained, and it learned
