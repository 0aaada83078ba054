"""Word tokenization with character offsets, shared by preprocessing and inference so both see the same words.

Letters, digits and each punctuation mark are separate words ("50mg," -> "50", "mg", ","): clinical text glues
numbers to units, and entity boundaries often fall between them.
"""

from __future__ import annotations

import bisect
import re
from typing import Iterable

# Letter runs (Unicode, incl. accented French), digit runs, or any single other non-space character.
_WORD = re.compile(r"[^\W\d_]+|\d+|[^\w\s]|_", re.UNICODE)


def word_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` character offsets of the words of ``text[start:end]`` (offsets into ``text``)."""
    end = len(text) if end is None else end
    return [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]


def split_at(spans: list[tuple[int, int]], boundaries: Iterable[int]) -> list[tuple[int, int]]:
    """Split words at the given character offsets (entity boundaries that fall inside a word), so that every
    boundary is also a word boundary. Used on training data only: at test time words come from the text alone."""
    cuts = sorted(set(boundaries))
    if not cuts:
        return list(spans)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        i = bisect.bisect_right(cuts, start)
        while i < len(cuts) and cuts[i] < end:
            out.append((start, cuts[i]))
            start = cuts[i]
            i += 1
        out.append((start, end))
    return out
