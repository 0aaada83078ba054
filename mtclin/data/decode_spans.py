"""From a span head's per-candidate scores of every window back to character spans of the original text.

1. Each candidate span (first word, last word) of an example is decided once: by the window, among those
   containing it whole, in which it is farthest from the window's edge (``min(start position, T - 1 - end
   position)``; ties go to the earlier window) — the span with most context on both sides, as BIO decoding does
   per word. So an entity seen by two overlapping windows is predicted (and counted) once.
2. It is an entity when P(not none) >= ``threshold``; its type is the most likely type, its score that type's
   probability. Spans are decided independently: nested spans and overlapping spans of different types are all
   kept (the same words carry at most one type).
3. Entity -> ``(start char of its first word, end char of its last word, type, score)``, like BIO predictions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.data.decode import PredSpan
from mtclin.data.encode_ner import NerWindow
from mtclin.data.encode_spans import window_candidates

# per window, per candidate (in window_candidates order): P(an entity), type index (into the task's labels), its
# probability — what SpanClassificationHead.predict gives, one row of the batch cut to the window's candidates
SpanScores = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ExampleSpans:
    """Every candidate span of one example, each once (step 1), as parallel (N,) arrays."""

    first_words: np.ndarray
    last_words: np.ndarray
    entity_probs: np.ndarray
    types: np.ndarray
    type_probs: np.ndarray

    def entities(self, starts: Sequence[int], ends: Sequence[int], labels: Sequence[str], threshold: float
                 ) -> list[PredSpan]:
        """Steps 2-3 with the example's word char offsets; sorted."""
        keep = np.flatnonzero(self.entity_probs >= threshold)
        return sorted((int(starts[self.first_words[k]]), int(ends[self.last_words[k]]), labels[self.types[k]],
                       float(self.type_probs[k])) for k in keep.tolist())


def example_spans(windows: Sequence[NerWindow], scores: Sequence[SpanScores], max_width: int, n_examples: int
                  ) -> list[ExampleSpans]:
    """Step 1 for every example (``NerWindow.example_index`` < ``n_examples``)."""
    if len(scores) != len(windows):
        raise ValueError(f"{len(windows)} windows but {len(scores)} score rows: pass one per window, in order")
    cols: dict[str, list[np.ndarray]] = defaultdict(list)
    for k, (window, (entity, types, type_probs)) in enumerate(zip(windows, scores)):
        c = window_candidates(window, max_width)
        if len(entity) < len(c):
            raise ValueError(f"window {k}: {len(c)} candidate spans but {len(entity)} scores; score every "
                             "candidate of collate_spans with the same max_width")
        n = len(c)
        cols["example"].append(np.full(n, window.example_index, dtype=np.int64))
        cols["first"].append(c.first_words)
        cols["last"].append(c.last_words)
        cols["dist"].append(np.minimum(c.starts, len(window) - 1 - c.ends))
        cols["window"].append(np.full(n, k, dtype=np.int64))
        cols["entity"].append(np.asarray(entity[:n], dtype=np.float64))
        cols["type"].append(np.asarray(types[:n], dtype=np.int64))
        cols["type_prob"].append(np.asarray(type_probs[:n], dtype=np.float64))
    if not windows:
        empty = np.zeros(0, dtype=np.int64)
        return [ExampleSpans(empty, empty, empty.astype(float), empty, empty.astype(float))
                for _ in range(n_examples)]
    a = {key: np.concatenate(parts) for key, parts in cols.items()}
    # per (example, first, last): the most distant from the edge, then the earliest window
    order = np.lexsort((a["window"], -a["dist"], a["last"], a["first"], a["example"]))
    key = np.stack([a["example"][order], a["first"][order], a["last"][order]])
    lead = np.r_[True, (key[:, 1:] != key[:, :-1]).any(0)] if len(order) else np.zeros(0, bool)
    chosen = order[lead]  # sorted by example, then span
    bounds = np.searchsorted(a["example"][chosen], np.arange(n_examples + 1))
    return [ExampleSpans(*(a[name][chosen[lo:hi]] for name in ("first", "last", "entity", "type", "type_prob")))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def decode_span_rows(
    rows: Sequence[Mapping[str, Any]],
    windows: Sequence[NerWindow],
    scores: Sequence[SpanScores],
    labels: Sequence[str],
    max_width: int,
    threshold: float,
) -> dict[str, list[PredSpan]]:
    """Entities per ``doc_id`` in document character offsets, from the processed rows the windows were encoded
    from (``encode_spans(rows, ...)``); ``labels``: the task's entity types (``TaskSpec.labels``). Every document
    of ``rows`` is a key, even with no entity."""
    return spans_by_doc(rows, example_spans(windows, scores, max_width, len(rows)), labels, threshold)


def spans_by_doc(rows: Sequence[Mapping[str, Any]], examples: Sequence[ExampleSpans], labels: Sequence[str],
                 threshold: float) -> dict[str, list[PredSpan]]:
    """Steps 2-3 per row, gathered per ``doc_id`` (a threshold can be tried again without re-reading windows)."""
    out: dict[str, list[PredSpan]] = defaultdict(list)
    for row, spans in zip(rows, examples):
        out[row["doc_id"]].extend(spans.entities(row["starts"], row["ends"], labels, threshold))
    return {doc: sorted(spans) for doc, spans in out.items()}


def decode_span_texts(
    spans: Sequence[Sequence[tuple[int, int]]],
    windows: Sequence[NerWindow],
    scores: Sequence[SpanScores],
    labels: Sequence[str],
    max_width: int,
    threshold: float,
) -> list[list[PredSpan]]:
    """Entities per raw text, from ``encode_texts``' windows and word spans (char offsets into each text)."""
    examples = example_spans(windows, scores, max_width, len(spans))
    return [ex.entities([s for s, _ in words], [e for _, e in words], labels, threshold)
            for ex, words in zip(examples, spans)]
