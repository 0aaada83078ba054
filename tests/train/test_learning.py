"""Training learns, not just runs: a tiny BERT memorises a handful of examples of every task kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from tests.toy_tasks import TOY_CORPORA, write_toy_processed


@pytest.fixture(scope="module")
def toy_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_processed(tmp_path_factory.mktemp("processed"))


def test_round_robin_reaches_perfect_scores(toy_processed: Path, tiny, tmp_path: Path):
    _, model_dir = tiny
    config = TrainConfig(corpora=TOY_CORPORA, processed_dir=str(toy_processed), output_dir=str(tmp_path / "run"),
                         encoder=str(model_dir), epochs=60, learning_rate=3e-3, ner_batch_size=5,
                         pair_batch_size=5, dropout=0.0, seed=0, progress=False, patience=0)
    result = train(config)
    best = result.history[result.best_epoch]["metrics"]
    assert best["n2c2-2018"]["f1"] == 1.0
    assert best["medrqe"]["accuracy"] == 1.0
    assert best["n2c2-2019"]["pearson"] > 0.95
    # every epoch's metrics are kept, and written
    assert len(result.history) == 60
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [r["epoch"] for r in written] == list(range(60))
    assert (result.model_dir / "tasks.json").is_file()
