"""Tab-separated pair files as real releases write them: CSV quoting, CRLF, a BOM; and the 0-5 scores they hold.

Rows are parsed as quoted TSV (``csv`` with ``delimiter='\\t'``, ``strict=True``): a field may be wrapped in
``"..."`` with a quote inside doubled (``""``), and may then span lines; an unquoted field keeps its ``"``
characters as they are. A row is located by the line it starts on. Malformed quoting (text after a closing quote, a
quote left open to the end of the file) is a problem at that row. Rows end at ``\\n`` or ``\\r\\n``; the last
may lack its line end; blank rows at the end of a file are dropped (those in between are kept for the caller to
report). Messages give lines and lengths, never the text.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from mtclin.corpora.problems import ProblemLog, read_text

MAX_SCORE = 5.0  # similarity scores are 0-5 (the STS head clips its predictions to this range)


@dataclass(frozen=True)
class Row:
    """One CSV row: the lines it starts and ends on (1-based) and its fields, None when its quoting is
    malformed (already reported)."""

    line: int
    last_line: int
    fields: list[str] | None


def rows(path: Path, log: ProblemLog) -> list[Row] | None:
    """The file's CSV rows (tab-separated, ``"``-quoted) before the trailing blank ones; blank rows in between
    are kept so the caller reports them. Malformed quoting is reported here (the row keeps its place, without
    fields). None where the file is unusable (reported)."""
    text = read_text(path, log)
    if text is None:
        return None
    # a BOM would end up in the first sentence (or make the first gold score unparsable): drop it
    physical = text.removeprefix("\ufeff").split("\n")
    lines = [line + "\n" for line in physical[:-1]] + ([physical[-1]] if physical[-1] else [])
    reader = csv.reader(lines, delimiter="\t", quotechar='"', doublequote=True, strict=True)
    found: list[Row] = []
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            span = "" if reader.line_num == first else f" (the row runs from line {first} to line {reader.line_num})"
            log.report(path, first, f"malformed CSV quoting: {err}{span}; a sentence that holds a quote must be "
                                    'wrapped in "..." with the quote doubled')
            found.append(Row(first, reader.line_num, None))
            continue
        found.append(Row(first, reader.line_num, fields))
    while found and found[-1].fields is not None and not "".join(found[-1].fields).strip():
        found.pop()
    return found


def score(text: str, path: Path, number: int, log: ProblemLog) -> float | None:
    """The similarity score of a field, or None after reporting it unparsable or outside [0, 5]."""
    if not text.strip():
        log.report(path, number, "blank line (expected a score)")
        return None
    try:
        value = float(text)
    except ValueError:
        log.report(path, number, f"score is not a number (field of {len(text)} characters)")
        return None
    return checked_score(value, path, number, log)


def checked_score(value: float, path: Path, number: int, log: ProblemLog) -> float | None:
    """``value`` when it is a finite score in [0, 5], else None after reporting it."""
    if not math.isfinite(value):
        log.report(path, number, "score is not a finite number")
        return None
    if not 0.0 <= value <= MAX_SCORE:
        log.report(path, number, f"score {value} outside [0, {MAX_SCORE:g}]")
        return None
    return float(value)
