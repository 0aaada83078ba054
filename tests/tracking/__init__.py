"""Helpers for the tracking tests: toy processed corpora with the PHI canary planted in every note and pair, and
a training config on the tiny BERT. Every test uses its own SQLite store under tmp_path (real MLflow)."""

from __future__ import annotations

from pathlib import Path

from mtclin.corpora.samples.common import CANARY
from mtclin.corpora.types import Pair
from mtclin.train.config import TrainConfig
from tests.toy_tasks import NOTES, PAIRS_NLI, PAIRS_STS, TOY_CORPORA, parse_note, write_tables


def write_canary_processed(root: Path) -> Path:
    """processed/<corpus>/{train,dev,test}.parquet for the toy corpora, the canary inside every text."""
    docs = [parse_note(f"note{i}", f"{CANARY} {n}") for i, n in enumerate(NOTES)]
    nli = [Pair(f"p{i}", f"{CANARY} {a}", b, label=y) for i, (a, b, y) in enumerate(PAIRS_NLI)]
    sts = [Pair(f"s{i}", a, f"{b} {CANARY}", score=y) for i, (a, b, y) in enumerate(PAIRS_STS)]
    return write_tables(root, {"n2c2-2018": docs, "medrqe": nli, "n2c2-2019": sts})


def toy_config(tmp: Path, encoder: Path, processed: Path, **overrides) -> TrainConfig:
    values = dict(corpora=TOY_CORPORA, processed_dir=str(processed), output_dir=str(tmp / "run"),
                  encoder=str(encoder), epochs=2, progress=False, device="cpu")
    return TrainConfig(**(values | overrides))


def sqlite_uri(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'mlflow.db'}"
