"""Training tables (polars) from a read corpus: one row per NER segment, or one row per pair.

NER columns: doc_id, segment, words, starts, ends (document char offsets), tags (BIO over the flattened layer),
gold_starts, gold_ends, gold_types (every gold entity of the document that starts in this segment: the
evaluation target). Pair columns: id, a, b, and label (nli) or score (sts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import polars as pl

from mtclin.corpora.types import Corpus, Document, Pair
from mtclin.preprocess.flatten import flatten, gold_spans
from mtclin.preprocess.segment import segment
from mtclin.preprocess.words import split_at, word_spans

NER_SCHEMA = {
    "doc_id": pl.String,
    "segment": pl.Int32,
    "words": pl.List(pl.String),
    "starts": pl.List(pl.Int32),
    "ends": pl.List(pl.Int32),
    "tags": pl.List(pl.String),
    "gold_starts": pl.List(pl.Int32),
    "gold_ends": pl.List(pl.Int32),
    "gold_types": pl.List(pl.String),
}
NLI_SCHEMA = {"id": pl.String, "a": pl.String, "b": pl.String, "label": pl.String}
STS_SCHEMA = {"id": pl.String, "a": pl.String, "b": pl.String, "score": pl.Float64}


@dataclass(frozen=True)
class PreprocessConfig:
    max_words: int = 128  # words per segment; most clinical sentences are far shorter, windows cover the rest
    split_words_at_gold: bool = True  # training split only: cut glued words ("50mg") where gold boundaries fall
    dev_fraction: float = 0.1  # releases without an official dev split: this share of train becomes dev
    dev_seed: int = 0  # which share: the carve-out is fixed by the seed, so a release always gives the same dev


def ner_rows(doc: Document, labels: Sequence[str], max_words: int, split_at_gold: bool) -> list[dict]:
    kept, _ = flatten(doc.entities, labels)
    words = word_spans(doc.text)
    if split_at_gold:
        words = split_at(words, [b for s in kept for b in s[:2]])
    segments = segment(doc.text, words, kept, max_words)
    gold = gold_spans(doc.entities)
    rows = []
    for index, seg in enumerate(segments):
        lo = seg.words[0][0] if index else 0
        hi = segments[index + 1].words[0][0] if index + 1 < len(segments) else len(doc.text) + 1
        seg_gold = [g for g in gold if lo <= g[0] < hi]
        rows.append({
            "doc_id": doc.id,
            "segment": index,
            "words": [doc.text[s:e] for s, e in seg.words],
            "starts": [s for s, _ in seg.words],
            "ends": [e for _, e in seg.words],
            "tags": seg.tags,
            "gold_starts": [g[0] for g in seg_gold],
            "gold_ends": [g[1] for g in seg_gold],
            "gold_types": [g[2] for g in seg_gold],
        })
    if not segments and gold:  # a note with no words but entities cannot happen: entities cover characters
        raise ValueError(f"{doc.id}: entities but no words")
    return rows


def split_table(corpus: Corpus, split: str, config: PreprocessConfig) -> pl.DataFrame:
    """The table of one split. Word splitting at gold boundaries is applied to ``train`` only, so dev and test
    words come from the text alone, exactly as at inference."""
    examples = corpus.splits[split]
    if corpus.kind == "ner":
        at_gold = config.split_words_at_gold and split == "train"
        rows = [r for doc in examples for r in ner_rows(doc, corpus.labels, config.max_words, at_gold)]
        return pl.DataFrame(rows, schema=NER_SCHEMA)
    pairs: list[Pair] = examples  # type: ignore[assignment]
    if corpus.kind == "nli":
        return pl.DataFrame([{"id": p.id, "a": p.a, "b": p.b, "label": p.label} for p in pairs], schema=NLI_SCHEMA)
    return pl.DataFrame([{"id": p.id, "a": p.a, "b": p.b, "score": p.score} for p in pairs], schema=STS_SCHEMA)
