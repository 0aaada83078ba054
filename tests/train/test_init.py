"""Starting a new corpus from a trained model's encoder: old heads dropped or carried (and their loss reported);
training on a seeded share of the train split (learning curves)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from mtclin.model.io import load_meta
from mtclin.train.config import TrainConfig
from mtclin.train.loop import seeded_share, train
from tests.toy_tasks import write_toy_processed


@pytest.fixture(scope="module")
def toy_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_processed(tmp_path_factory.mktemp("processed"))


@pytest.fixture(scope="module")
def first(toy_processed: Path, tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on medrqe and n2c2-2019: the start for a new NER corpus."""
    out = tmp_path_factory.mktemp("first")
    train(TrainConfig(corpora=("medrqe", "n2c2-2019"), processed_dir=str(toy_processed), output_dir=str(out),
                      encoder=str(tiny[1]), epochs=2, learning_rate=1e-3, pair_batch_size=2, progress=False))
    return out / "model"


def config(processed: Path, out: Path, **changes) -> TrainConfig:
    return TrainConfig(**(dict(corpora=("n2c2-2018",), processed_dir=str(processed), output_dir=str(out), epochs=1,
                               learning_rate=1e-3, ner_batch_size=2, progress=False) | changes))


def test_the_encoder_comes_from_the_trained_model_and_old_heads_are_dropped(toy_processed, first, tmp_path):
    result = train(config(toy_processed, tmp_path / "new", init=str(first), max_steps=1, epochs=1))
    assert not result.finished  # one step, then stopped: the weights it started from are what we compare
    from mtclin.train.checkpoint import latest_checkpoint

    saved = load_file(latest_checkpoint(tmp_path / "new" / "checkpoints") / "model.safetensors")
    start = load_file(first / "encoder" / "model.safetensors")
    # one small step away from the trained encoder, far from a fresh one
    key = next(k for k in start if k.endswith("embeddings.word_embeddings.weight"))
    moved = (saved[f"encoder.{key}"] - start[key]).abs().max().item()
    assert 0 < moved < 0.01
    assert not any(k.startswith("heads.medrqe") for k in saved)  # dropped
    done = train(config(toy_processed, tmp_path / "full", init=str(first)))
    assert [t.name for t in load_meta(done.model_dir).tasks] == ["n2c2-2018"]
    assert "retention" not in done.test


def test_kept_heads_are_carried_and_what_they_lost_is_reported(toy_processed, first, tmp_path):
    result = train(config(toy_processed, tmp_path / "kept", init=str(first), keep_heads=True))
    meta = load_meta(result.model_dir)
    assert [t.name for t in meta.tasks] == ["n2c2-2018", "medrqe", "n2c2-2019"]
    assert meta.encoder_source == str(first)
    retention = result.test["retention"]
    assert set(retention) == {"medrqe", "n2c2-2019"}
    before = json.loads((first.parent / "test_metrics.json").read_text())["metrics"]
    assert retention["medrqe"]["before"] == pytest.approx(before["medrqe"]["accuracy"])
    assert retention["n2c2-2019"]["delta"] == pytest.approx(retention["n2c2-2019"]["after"]
                                                            - retention["n2c2-2019"]["before"])
    assert set(result.history[0]["metrics"]) == {"n2c2-2018"}  # only the new task is trained and selected on


def test_a_registry_reference_must_be_fetched_first(toy_processed, tmp_path):
    with pytest.raises(ValueError, match="must be fetched first"):
        train(config(toy_processed, tmp_path / "x", init="models:/mt-clinical-bert@production"))


def test_a_seeded_share_takes_whole_documents() -> None:
    rows = [{"doc_id": f"d{i // 2}", "segment": i % 2} for i in range(20)]  # 10 documents, 2 segments each
    share = seeded_share(rows, 0.3, seed=1)
    docs = {r["doc_id"] for r in share}
    assert len(docs) == 3 and len(share) == 6 and share == [r for r in rows if r["doc_id"] in docs]
    assert seeded_share(rows, 0.3, seed=1) == share and seeded_share(rows, 0.3, seed=2) != share
    assert seeded_share(rows, 1.0, seed=0) is rows
    assert len(seeded_share([{"id": str(i)} for i in range(50)], 0.1, seed=0)) == 5
    with pytest.raises(ValueError, match="train_fraction must be in"):
        seeded_share(rows, 0.0, seed=0)
