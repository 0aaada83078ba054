"""The dev split models are chosen on: the release's official dev, or a seeded carve-out of train.

Releases without a dev split (most of the eight) give up ``fraction`` of their train split: whole documents for NER
(windows of one note never straddle train and dev), pairs stratified by label for entailment and by rounded score
for similarity, so dev has train's label mix. The carve-out is a pure function of the train examples, the fraction
and the seed: the same release always gives the same dev split.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from typing import Any, Hashable, Sequence

from mtclin.corpora.registry import DEV
from mtclin.corpora.types import Corpus, Example, Pair

PROCESSED_SPLITS: tuple[str, ...] = ("train", DEV, "test")  # what preprocessing writes for every corpus


def _stratum(example: Example, kind: str) -> Hashable:
    if kind == "ner":
        return None  # documents: one stratum
    pair: Pair = example  # type: ignore[assignment]
    return pair.label if kind == "nli" else round(pair.score or 0.0)


def carve(examples: Sequence[Example], kind: str, fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """``(train, dev)``: ``fraction`` of each stratum (at least one example where a stratum has two or more) moved
    to dev; both keep the original order."""
    if not 0 < fraction < 1:
        raise ValueError(f"dev_fraction must be between 0 and 1 (exclusive), got {fraction}")
    strata: dict[Hashable, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        strata[_stratum(example, kind)].append(index)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for key in sorted(strata, key=repr):  # a fixed order, so the seed alone decides
        members = strata[key]
        size = min(len(members) - 1, max(1, round(fraction * len(members)))) if len(members) > 1 else 0
        chosen.update(rng.sample(members, size))
    train = [e for i, e in enumerate(examples) if i not in chosen]
    dev = [e for i, e in enumerate(examples) if i in chosen]
    return train, dev


def with_dev(corpus: Corpus, fraction: float, seed: int) -> tuple[Corpus, dict[str, Any]]:
    """The corpus with a non-empty ``dev`` split (official when the release has one, else carved from train) and a
    description of where dev came from (for stats.json)."""
    if corpus.splits.get(DEV):
        return corpus, {"source": "official"}
    train, dev = carve(corpus.splits["train"], corpus.kind, fraction, seed)
    unit = {"ner": "documents", "nli": "pairs stratified by label", "sts": "pairs stratified by rounded score"}
    splits = {"train": train, DEV: dev} | {k: v for k, v in corpus.splits.items() if k not in ("train", DEV)}
    return replace(corpus, splits=splits), {"source": "carved from train", "fraction": fraction, "seed": seed,
                                            "unit": unit[corpus.kind]}
