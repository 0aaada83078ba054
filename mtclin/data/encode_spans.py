"""Span-head data: gold entities as word spans, the candidate spans of each window, their labels, and the
default maximum width.

Windows are the BIO encoder's (``encode_ner``: same subwords, same overlapping windows for long segments); a span
task adds to each window the gold entities lying wholly inside it (``NerWindow.spans``), every gold entity of the
row (nested, overlapping, discontinuous ones as their covering span), not the flattened BIO layer.

Candidates of a window: every span of the window's words up to ``max_width`` words (a span is scored only in a
window that contains it whole), ordered by width then start, at most ``MAX_SPANS_PER_WINDOW``. A window of n words
has ``n * K - K * (K - 1) / 2`` candidates for width K; the head's memory and time grow with that count. The cap
bounds it: at the default 128-subword windows (at most 126 words) it is reached only beyond K = 16 words; where it
bites, the widest candidates of that window are neither trained on nor predicted (the shortest, by far the most
frequent entities, are always scored).

A gold entity is a candidate when its start and end fall on word boundaries (train words are cut at the flattened
layer's boundaries only, dev/test words come from the text alone) and it is at most ``max_width`` words wide:
:func:`recall_ceiling` is the share of gold entities that can be found at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.data.encode_ner import NerWindow, encode_ner
from mtclin.data.word_boundaries import WordBoundaries

MAX_SPANS_PER_WINDOW = 2048  # see the module docstring: reached only for windows of > 2048 / K words
DEFAULT_WIDTH_COVERAGE = 0.99  # default max width: the smallest covering this share of the train gold widths


@dataclass(frozen=True)
class Candidates:
    """The candidate spans of one window, (S,) int64 each."""

    starts: np.ndarray  # token position of the first word's first subword
    ends: np.ndarray  # token position of the last word's first subword
    widths: np.ndarray  # words - 1 (the width embedding's index)
    first_words: np.ndarray  # word index (in the example) of the first word
    last_words: np.ndarray  # ... and of the last word

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class WidthChoice:
    """The default maximum width and what it leaves out, for the training report."""

    max_width: int
    coverage: float  # share of the train gold entities (on word boundaries) at most max_width words wide
    gold: int  # train gold entities on word boundaries
    wider: int  # of those, wider than max_width (not candidates)


def gold_word_spans(row: Mapping[str, Any], labels: Sequence[str]) -> tuple[np.ndarray, int]:
    """Every gold entity of a processed row as ``(first word, last word, type id)`` (type id = 1 + index in
    ``labels``; (G, 3) int64, sorted), and how many gold entities do not start and end on the row's word
    boundaries (they cannot be candidates)."""
    boundaries = WordBoundaries(row["starts"], row["ends"])
    type_id = {t: k + 1 for k, t in enumerate(labels)}
    out, unaligned = set(), 0
    for start, end, typ in zip(row["gold_starts"], row["gold_ends"], row["gold_types"]):
        if typ not in type_id:
            raise ValueError(f"doc_id={row.get('doc_id')!r}, segment={row.get('segment')}: gold type {typ!r} is not "
                             f"one of the task's labels {list(labels)}; check the task's label list against the "
                             "processed data")
        words = boundaries.words(start, end)
        if words is None:
            unaligned += 1
            continue
        out.add((*words, type_id[typ]))
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 3), unaligned


def encode_spans(
    rows: Sequence[Mapping[str, Any]],
    tokenizer: Any,
    labels: Sequence[str] | None,
    max_length: int,
    stride: int,
) -> list[NerWindow]:
    """``encode_ner``'s windows of the rows' ``words``, each with the gold entities inside it (``spans``) when
    ``labels`` (the task's entity types, ``TaskSpec.labels``) is given; None encodes without gold (inference)."""
    windows = encode_ner(rows, tokenizer, None, max_length, stride)
    if labels is None:
        return windows
    gold = [gold_word_spans(row, labels)[0] for row in rows]
    out = []
    for window in windows:
        g = gold[window.example_index]
        words = window.word_index[window.word_index >= 0]
        inside = (g[:, 0] >= words.min()) & (g[:, 1] <= words.max()) if len(words) else np.zeros(len(g), bool)
        out.append(replace(window, spans=g[inside]))
    return out


def window_candidates(window: NerWindow, max_width: int, cap: int = MAX_SPANS_PER_WINDOW) -> Candidates:
    """Every span of the window's words up to ``max_width`` words, by width then start, the first ``cap``."""
    pos = np.flatnonzero(window.word_index >= 0)  # first subwords, in word order
    words = window.word_index[pos]
    a_parts, b_parts = [], []
    for d in range(min(max_width, len(pos))):
        a = np.arange(len(pos) - d)
        # a word the tokenizer dropped (no subword) still counts in the width
        keep = words[a + d] - words[a] < max_width
        a_parts.append(a[keep])
        b_parts.append(a[keep] + d)
    a = np.concatenate(a_parts)[:cap] if a_parts else np.zeros(0, dtype=np.int64)
    b = np.concatenate(b_parts)[:cap] if b_parts else np.zeros(0, dtype=np.int64)
    return Candidates(pos[a], pos[b], words[b] - words[a], words[a], words[b])


def candidate_labels(candidates: Candidates, gold: np.ndarray) -> np.ndarray:
    """(S,) the gold type id of each candidate, 0 (none) where no gold entity has exactly its words. The same
    words under two types (rare) get the first type in label order: one label per span."""
    labels = np.zeros(len(candidates), dtype=np.int64)
    if not len(gold) or not len(candidates):
        return labels
    by_span: dict[tuple[int, int], int] = {}
    for i, j, t in gold.tolist():
        by_span.setdefault((i, j), t)  # gold is sorted: the smallest type id wins
    for k, key in enumerate(zip(candidates.first_words.tolist(), candidates.last_words.tolist())):
        labels[k] = by_span.get(key, 0)
    return labels


def gold_widths(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> np.ndarray:
    """The width in words of every gold entity on word boundaries of ``rows``."""
    spans = [gold_word_spans(row, labels)[0] for row in rows]
    return np.concatenate([s[:, 1] - s[:, 0] + 1 for s in spans]) if spans else np.zeros(0, dtype=np.int64)


def default_max_width(rows: Sequence[Mapping[str, Any]], labels: Sequence[str],
                      coverage: float = DEFAULT_WIDTH_COVERAGE) -> WidthChoice:
    """The smallest width covering ``coverage`` of the train gold entities' widths (1 without any)."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage={coverage}: must be in (0, 1]")
    widths = np.sort(gold_widths(rows, labels))
    if not len(widths):
        return WidthChoice(1, 1.0, 0, 0)
    width = int(widths[int(np.ceil(coverage * len(widths))) - 1])
    wider = int((widths > width).sum())
    return WidthChoice(width, 1 - wider / len(widths), len(widths), wider)


def recall_ceiling(rows: Sequence[Mapping[str, Any]], labels: Sequence[str], max_width: int) -> float:
    """The share of the rows' gold entities a span head of ``max_width`` can find: on word boundaries and at most
    ``max_width`` words wide (1.0 without gold). The same entity listed twice counts once, as in scoring."""
    total = found = 0
    for row in rows:
        spans, _ = gold_word_spans(row, labels)  # the unaligned ones are in the total, never found
        total += len(set(zip(row["gold_starts"], row["gold_ends"], row["gold_types"])))
        found += int((spans[:, 1] - spans[:, 0] < max_width).sum())
    return found / total if total else 1.0
