"""Cut a long note into segments the encoder can take, without cutting through an entity.

Boundaries are allowed only between words, never inside a kept entity; preferred at line breaks and sentence
ends. Units (lines/sentences) are packed greedily up to ``max_words`` words; a unit longer than that is cut at
the last allowed word boundary. Windows with stride in the encoder cover what still exceeds the model's limit,
so nothing is lost either way.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Sequence

from mtclin.preprocess.flatten import Span

_SENTENCE_END = {".", "?", "!", ";"}


@dataclass(frozen=True)
class Segment:
    words: list[tuple[int, int]]  # character offsets into the document
    tags: list[str]  # BIO, one per word


def bio_tags(words: list[tuple[int, int]], spans: list[Span]) -> list[str]:
    """BIO tag per word: B- on the first word overlapping a span, I- on the next ones, O elsewhere."""
    tags = ["O"] * len(words)
    j = 0
    for i, (ws, we) in enumerate(words):
        while j < len(spans) and spans[j][1] <= ws:
            j += 1
        if j < len(spans) and spans[j][0] < we:
            first = i == 0 or words[i - 1][1] <= spans[j][0]
            tags[i] = ("B-" if first else "I-") + spans[j][2]
    return tags


def _breakable(words: list[tuple[int, int]], spans: list[Span],
               together: Sequence[tuple[int, int]] = ()) -> list[bool]:
    """breakable[i]: a segment may end after word i (no kept span, nor a ``together`` range, runs across the
    gap)."""
    out = [True] * len(words)
    if together:
        ends = [e for _, e in words]
        starts = [s for s, _ in words]
        for lo, hi in together:  # forbidden: cuts after a word ending past lo and before a word starting before hi
            first = bisect_right(ends, lo)  # first word ending after lo
            last = bisect_left(starts, hi) - 1  # last word starting before hi
            for i in range(first, min(last, len(words) - 1)):
                out[i] = False
    j = 0
    for i in range(len(words) - 1):
        gap_start, gap_end = words[i][1], words[i + 1][0]
        while j < len(spans) and spans[j][1] <= gap_start:
            j += 1
        if j < len(spans) and spans[j][0] < gap_end and spans[j][0] <= gap_start:
            out[i] = False
    return out


def segment(text: str, words: list[tuple[int, int]], spans: list[Span], max_words: int,
            together: Sequence[tuple[int, int]] = ()) -> list[Segment]:
    """Split a document's words (and their BIO tags over ``spans``) into segments of at most ``max_words`` words
    where possible (a single entity longer than that stays whole). ``together``: character ranges never cut
    (the arguments of a relation), which may make a segment longer than ``max_words``."""
    if not words:
        return []
    tags = bio_tags(words, spans)
    breakable = _breakable(words, spans, together)
    # unit ends: after a word followed by a newline, or a sentence-final mark, where breakable
    unit_end = [
        breakable[i] and (i == len(words) - 1 or "\n" in text[words[i][1]:words[i + 1][0]]
                          or text[words[i][0]:words[i][1]] in _SENTENCE_END)
        for i in range(len(words))
    ]
    segments: list[Segment] = []
    start = 0  # first word of the segment being packed
    last_unit_end = -1  # last preferred cut inside it
    last_break = -1  # last allowed cut inside it
    for i in range(len(words)):
        if i - start + 1 > max_words and i > start:
            cut = last_unit_end if last_unit_end >= start else last_break
            if cut >= start:
                segments.append(Segment(words[start:cut + 1], tags[start:cut + 1]))
                start = cut + 1
                last_unit_end = last_break = -1
                # words between the cut and i are re-scanned for cut points
                for k in range(start, i):
                    if unit_end[k]:
                        last_unit_end = k
                    if breakable[k]:
                        last_break = k
        if unit_end[i]:
            last_unit_end = i
        if breakable[i]:
            last_break = i
    segments.append(Segment(words[start:], tags[start:]))
    return segments
