"""Counts that describe a read corpus: what `mtclin inspect` prints and preprocessing writes as DVC metrics.

Only counts, ids-free positions and problem locations: never note text (it may be PHI).
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, Sequence

from mtclin.corpora.types import Corpus, Document, Pair, Problem
from mtclin.preprocess.flatten import FlattenCounts, flatten
from mtclin.preprocess.link_stats import assertion_stats, relation_stats


def _nested_count(doc: Document) -> int:
    """Entities whose covering span lies inside another entity's (different) span."""
    spans = sorted({(e.start, e.end) for e in doc.entities})
    return sum(
        1 for e in doc.entities
        if any(s <= e.start and e.end <= t and (s, t) != (e.start, e.end) for s, t in spans)
    )


def ner_split_stats(documents: Sequence[Document], labels: Sequence[str]) -> dict[str, Any]:
    counts = FlattenCounts()
    nested = 0
    for doc in documents:
        counts.add(flatten(doc.entities, labels)[1])
        nested += _nested_count(doc)
    return {
        "documents": len(documents),
        "entities_read": sum(counts.read.values()),
        "entities_read_per_type": dict(sorted(counts.read.items())),
        "discontinuous": sum(counts.discontinuous.values()),
        "nested": nested,
        "entities_kept": sum(counts.kept.values()),
        "entities_kept_per_type": dict(sorted(counts.kept.items())),
        "dropped_by_flattening": {
            reason: {"total": sum(c.values()), "per_type": dict(sorted(c.items()))}
            for reason, c in counts.dropped.items()
        },
    }


def pair_split_stats(pairs: Sequence[Pair], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"pairs": len(pairs)}
    if kind == "nli":
        out["pairs_per_label"] = dict(sorted(Counter(p.label for p in pairs).items()))
    else:
        scores = [p.score for p in pairs if p.score is not None]
        out["score"] = {
            "min": min(scores, default=0.0),
            "max": max(scores, default=0.0),
            "mean": statistics.fmean(scores) if scores else 0.0,
            "stdev": statistics.pstdev(scores) if scores else 0.0,
        }
    return out


def _listed(problems: Sequence[Problem]) -> dict[str, Any]:
    return {"count": len(problems),
            "items": [{"file": p.file, "position": p.position, "message": p.message} for p in problems]}


def corpus_stats(corpus: Corpus) -> dict[str, Any]:
    """Per split counts (with assertions and relations where the corpus has them), the problems found and the
    notices (file, position, message)."""
    splits: dict[str, Any] = {}
    for split, examples in corpus.splits.items():
        if corpus.kind == "ner":
            documents: Sequence[Document] = examples  # type: ignore[assignment]
            splits[split] = ner_split_stats(documents, corpus.labels)
            if corpus.assertion_values:
                splits[split]["assertions"] = assertion_stats(documents, corpus.assertion_values)
            if corpus.relation_types:
                splits[split]["relations"] = relation_stats(documents, corpus.relation_types)
        else:
            splits[split] = pair_split_stats(examples, corpus.kind)  # type: ignore[arg-type]
    return {
        "corpus": corpus.name,
        "kind": corpus.kind,
        "splits": splits,
        "problems": _listed(corpus.problems),
        "notices": _listed(corpus.notices),  # no error, but worth knowing (e.g. a split without assertion files)
    }
