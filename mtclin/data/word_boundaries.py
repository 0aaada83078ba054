"""Character spans on a processed row's words: which entities a word-level head (span, assertion, relation) can
represent at all, and as which words."""

from __future__ import annotations

from typing import Sequence


class WordBoundaries:
    """The words of one row (their character ``starts`` / ``ends``), looked up by an entity's offsets."""

    def __init__(self, starts: Sequence[int], ends: Sequence[int]):
        self._first = {int(s): i for i, s in enumerate(starts)}
        self._last = {int(e): i for i, e in enumerate(ends)}

    def words(self, start: int, end: int) -> tuple[int, int] | None:
        """``(first word, last word)`` of the characters ``[start, end)``, or None when they do not start and end
        on word boundaries (such an entity cannot be a candidate)."""
        i, j = self._first.get(int(start)), self._last.get(int(end))
        if i is None or j is None or j < i:
            return None
        return i, j
