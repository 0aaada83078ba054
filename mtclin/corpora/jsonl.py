"""JSON Lines files as real releases write them (MedNLI, the generic ``jsonl-pairs`` format): one object per line.

Decisions: the file is UTF-8; a BOM before the first record is dropped (RFC 8259 lets parsers ignore it); lines
are split at ``\\n`` only (``str.splitlines`` would also break at U+2028, which JSON allows raw inside strings), a
``\\r`` before it is JSON whitespace; blank (whitespace-only) lines are skipped wherever they are (a truncated or
broken record still shows up as invalid JSON on its own line). Messages give line and column, never the text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mtclin.corpora.problems import ProblemLog, read_text


def records(path: Path, log: ProblemLog) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every record of the file, in line order. A line that is not valid JSON or
    not an object is reported (and left out); an unusable file (empty, not UTF-8) is reported and gives []."""
    text = read_text(path, log)
    if text is None:
        return []
    out: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            log.report(path, f"line {number} (column {err.colno})", f"invalid JSON: {err.msg}")
            continue
        if not isinstance(record, dict):
            log.report(path, number, f"expected a JSON object, got {type(record).__name__}")
            continue
        out.append((number, record))
    return out
