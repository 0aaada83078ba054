"""The dev split: official where the release has one, else a seeded carve-out of train (documents / stratified)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from mtclin.corpora.registry import corpus_info
from mtclin.corpora.samples import write_samples
from mtclin.corpora.types import Corpus, Document, Pair
from mtclin.preprocess.dev_split import carve, with_dev
from mtclin.preprocess.run import preprocess_corpus
from mtclin.preprocess.tables import PreprocessConfig

DOCS = [Document(f"d{i}", "x", ()) for i in range(20)]
NLI = [Pair(f"p{i}", "a", "b", label="true" if i % 4 else "false") for i in range(40)]  # 30 true, 10 false
STS = [Pair(f"s{i}", "a", "b", score=i % 6 + 0.2) for i in range(60)]


def test_ner_dev_is_whole_documents_fixed_by_the_seed() -> None:
    train, dev = carve(DOCS, "ner", 0.1, seed=0)
    assert len(dev) == 2 and len(train) == 18
    assert {d.id for d in train} | {d.id for d in dev} == {d.id for d in DOCS}
    assert not {d.id for d in train} & {d.id for d in dev}
    assert [d.id for d in train] == sorted((d.id for d in train), key=lambda i: int(i[1:]))  # order kept
    assert carve(DOCS, "ner", 0.1, seed=0) == (train, dev)
    assert carve(DOCS, "ner", 0.1, seed=1)[1] != dev


def test_pairs_are_stratified_by_label_or_rounded_score() -> None:
    train, dev = carve(NLI, "nli", 0.1, seed=3)
    assert Counter(p.label for p in dev) == {"true": 3, "false": 1}
    assert len(train) == 36
    _, dev_sts = carve(STS, "sts", 0.1, seed=3)
    assert Counter(round(p.score) for p in dev_sts) == {k: 1 for k in range(6)}


def test_a_stratum_of_one_stays_in_train_and_bad_fractions_are_refused() -> None:
    train, dev = carve(DOCS[:1], "ner", 0.1, seed=0)
    assert (train, dev) == (DOCS[:1], [])
    with pytest.raises(ValueError, match="dev_fraction must be between 0 and 1"):
        carve(DOCS, "ner", 1.0, seed=0)


def test_an_official_dev_split_is_kept_as_is() -> None:
    info = corpus_info("mednli")
    corpus = Corpus("mednli", "nli", info.labels, {"train": NLI[:4], "dev": NLI[4:6], "test": NLI[6:8]})
    out, source = with_dev(corpus, 0.1, 0)
    assert out.splits == corpus.splits and source == {"source": "official"}


def test_preprocessing_writes_dev_official_or_carved(tmp_path: Path) -> None:
    write_samples(tmp_path / "data", corpora=("mednli", "medrqe"), scale=0.3)
    config = PreprocessConfig()
    official = preprocess_corpus("mednli", tmp_path / "data" / "mednli", tmp_path / "out" / "mednli", config)
    carved = preprocess_corpus("medrqe", tmp_path / "data" / "medrqe", tmp_path / "out" / "medrqe", config)
    assert official["dev_split"] == {"source": "official"}
    assert carved["dev_split"] == {"source": "carved from train", "fraction": 0.1, "seed": 0,
                                   "unit": "pairs stratified by label"}
    ids = {split: set(pl.read_parquet(tmp_path / "out" / "medrqe" / f"{split}.parquet")["id"])
           for split in ("train", "dev", "test")}
    assert ids["dev"] and not ids["dev"] & ids["train"]
    assert carved["splits"]["dev"]["rows"] == len(ids["dev"])
    assert json.loads((tmp_path / "out" / "medrqe" / "stats.json").read_text())["dev_split"]["seed"] == 0
