"""Flatten every gold annotation of a document into one non-overlapping layer that BIO tags can express.

The rule (documented in README, counted in the stats, never silent):
1. A discontinuous entity becomes its covering span (first fragment's start to last fragment's end); counted
   as ``discontinuous``.
2. Longest span first (ties: earlier start, then the corpus's label order): an entity is kept when it overlaps
   no entity kept before it. So nested entities keep the outermost one (quaero "cancer du poumon" DISO over
   "poumon" ANAT). Each dropped entity is counted by why: ``nested`` (inside a kept one), ``same_span`` (the same
   span kept with another type), ``crossing`` (partly overlaps a kept one).
Evaluation scores against every gold entity (covering spans, deduplicated), not only the kept ones, so what
flattening loses shows as lost recall rather than disappearing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from mtclin.corpora.types import Entity

Span = tuple[int, int, str]  # (start, end, type), half-open character offsets


@dataclass
class FlattenCounts:
    """Per entity type: how many were read, kept, and dropped for each reason."""

    read: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    discontinuous: Counter = field(default_factory=Counter)
    dropped: dict[str, Counter] = field(default_factory=lambda: {"nested": Counter(), "same_span": Counter(),
                                                                  "crossing": Counter()})

    def add(self, other: "FlattenCounts") -> None:
        self.read.update(other.read)
        self.kept.update(other.kept)
        self.discontinuous.update(other.discontinuous)
        for reason, counts in other.dropped.items():
            self.dropped[reason].update(counts)


def gold_spans(entities: Sequence[Entity]) -> list[Span]:
    """Every gold entity as a covering ``(start, end, type)``, deduplicated and sorted: what evaluation scores."""
    return sorted({(e.start, e.end, e.type) for e in entities})


def flatten(entities: Sequence[Entity], label_order: Sequence[str]) -> tuple[list[Span], FlattenCounts]:
    """The kept, non-overlapping spans sorted by start, and the counts of what the rule did."""
    rank = {label: i for i, label in enumerate(label_order)}
    counts = FlattenCounts()
    for e in entities:
        counts.read[e.type] += 1
        if e.discontinuous:
            counts.discontinuous[e.type] += 1
    candidates = sorted(
        {(e.start, e.end, e.type) for e in entities},
        key=lambda s: (-(s[1] - s[0]), s[0], rank.get(s[2], len(rank)), s[2]),
    )
    # duplicates of the exact same (span, type) collapse silently above only if they were annotated twice;
    # count them as same_span so read == kept + dropped always holds.
    duplicates = len(entities) - len(candidates)
    kept: list[Span] = []
    for start, end, label in candidates:
        clash = next((k for k in kept if start < k[1] and k[0] < end), None)
        if clash is None:
            kept.append((start, end, label))
            counts.kept[label] += 1
        elif (clash[0], clash[1]) == (start, end):
            counts.dropped["same_span"][label] += 1
        elif clash[0] <= start and end <= clash[1]:
            counts.dropped["nested"][label] += 1
        else:
            counts.dropped["crossing"][label] += 1
    if duplicates:
        seen: Counter = Counter((e.start, e.end, e.type) for e in entities)
        for (_, _, label), n in seen.items():
            if n > 1:
                counts.dropped["same_span"][label] += n - 1
    return sorted(kept), counts
