"""Training tables (polars) from a read corpus: one row per NER segment, or one row per pair.

NER columns: doc_id, segment, words, starts, ends (document char offsets), tags (BIO over the flattened layer),
gold_starts, gold_ends, gold_types (every gold entity of the document that starts in this segment: the
evaluation target), aligned with them gold_ids (the entity's id, ``links.canonical_ids``) and gold_assertions (its
assertion value, null where it has none), and the relations whose first argument (in text order) is in this segment:
rel_types, rel_arg1, rel_arg2 (entity ids of gold_ids, of this segment or, for a relation cut by segmentation,
another one; see ``links``). Pair columns: id, a, b, and label (nli) or score (sts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import polars as pl

from mtclin.corpora.types import Corpus, Document, Pair
from mtclin.preprocess.flatten import flatten, gold_spans
from mtclin.preprocess.links import canonical_ids, relation_ranges, span_assertions, span_relations
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
    "gold_ids": pl.List(pl.String),
    "gold_assertions": pl.List(pl.String),
    "rel_types": pl.List(pl.String),
    "rel_arg1": pl.List(pl.String),
    "rel_arg2": pl.List(pl.String),
}
NLI_SCHEMA = {"id": pl.String, "a": pl.String, "b": pl.String, "label": pl.String}
STS_SCHEMA = {"id": pl.String, "a": pl.String, "b": pl.String, "score": pl.Float64}


@dataclass(frozen=True)
class PreprocessConfig:
    max_words: int = 128  # words per segment; most clinical sentences are far shorter, windows cover the rest
    split_words_at_gold: bool = True  # training split only: cut glued words ("50mg") where gold boundaries fall
    dev_fraction: float = 0.1  # releases without an official dev split: this share of train becomes dev
    dev_seed: int = 0  # which share: the carve-out is fixed by the seed, so a release always gives the same dev
    # no segment boundary between relation arguments at most this many characters apart, so a relation head sees
    # both in one window; farther ones may be cut (counted in stats.json: relations.crossing_segments). 500
    # characters is about what one 128-subword window holds: a relation wider than that is out of a window anyway
    relation_chars: int = 500


def ner_rows(doc: Document, labels: Sequence[str], max_words: int, split_at_gold: bool,
             relation_chars: int = 500) -> list[dict]:
    kept, _ = flatten(doc.entities, labels)
    gold = gold_spans(doc.entities)
    words = word_spans(doc.text)
    if split_at_gold:
        # at every gold boundary, not only the flattened ones: a span head learns the nested entities too, and an
        # entity that starts or ends inside a word is no candidate span
        words = split_at(words, [b for g in gold for b in g[:2]])
    segments = segment(doc.text, words, kept, max_words, together=relation_ranges(doc, relation_chars))
    ids, renamed = canonical_ids(doc.entities)
    assertions = span_assertions(doc, renamed)
    spans_by_id = {entity_id: key for key, entity_id in ids.items()}
    relations = sorted(span_relations(doc, renamed), key=lambda r: min(spans_by_id[r[1]], spans_by_id[r[2]]))
    rows = []
    for index, seg in enumerate(segments):
        lo = seg.words[0][0] if index else 0
        hi = segments[index + 1].words[0][0] if index + 1 < len(segments) else len(doc.text) + 1
        seg_gold = [g for g in gold if lo <= g[0] < hi]
        seg_ids = [ids[g] for g in seg_gold]
        # a relation goes with its first argument (in text order): every relation is in exactly one row
        seg_rel = [r for r in relations if lo <= min(spans_by_id[r[1]], spans_by_id[r[2]])[0] < hi]
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
            "gold_ids": seg_ids,
            "gold_assertions": [assertions.get(i) for i in seg_ids],
            "rel_types": [r[0] for r in seg_rel],
            "rel_arg1": [r[1] for r in seg_rel],
            "rel_arg2": [r[2] for r in seg_rel],
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
        rows = [r for doc in examples
                for r in ner_rows(doc, corpus.labels, config.max_words, at_gold, config.relation_chars)]
        return pl.DataFrame(rows, schema=NER_SCHEMA)
    pairs: list[Pair] = examples  # type: ignore[assignment]
    if corpus.kind == "nli":
        return pl.DataFrame([{"id": p.id, "a": p.a, "b": p.b, "label": p.label} for p in pairs], schema=NLI_SCHEMA)
    return pl.DataFrame([{"id": p.id, "a": p.a, "b": p.b, "score": p.score} for p in pairs], schema=STS_SCHEMA)
