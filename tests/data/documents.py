"""Processed-row fixtures built from text and gold spans the way preprocessing builds them."""

from __future__ import annotations

from typing import Any, Sequence

from mtclin.preprocess.segment import bio_tags
from mtclin.preprocess.words import word_spans
from mtclin.tasks import TaskSpec

TASK = TaskSpec(name="toy", kind="ner", labels=("DISO", "CHEM"))


def find(text: str, phrase: str, typ: str, occurrence: int = 0) -> tuple[int, int, str]:
    """The (start, end, type) of the n-th occurrence of ``phrase`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return (start, start + len(phrase), typ)


def rows_for(doc_id: str, text: str, spans: Sequence[tuple[int, int, str]],
             cuts: Sequence[int] = ()) -> list[dict[str, Any]]:
    """One row per segment; ``cuts`` are word indices where a new segment starts (never inside an entity)."""
    words = word_spans(text)
    tags = bio_tags(words, sorted(spans))
    bounds = [0, *cuts, len(words)]
    rows = []
    for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
        seg_start, seg_end = words[a][0], words[b - 1][1]
        gold = [s for s in sorted(spans) if seg_start <= s[0] < seg_end]
        rows.append({
            "doc_id": doc_id, "segment": k,
            "words": [text[s:e] for s, e in words[a:b]],
            "starts": [s for s, _ in words[a:b]], "ends": [e for _, e in words[a:b]],
            "tags": tags[a:b],
            "gold_starts": [s[0] for s in gold], "gold_ends": [s[1] for s in gold],
            "gold_types": [s[2] for s in gold],
        })
    return rows
