"""Strict or lenient handling of bad raw input.

Readers report every problem through a :class:`ProblemLog`. In strict mode (the default) the first problem
raises :class:`CorpusFormatError`, naming the file and position. In lenient mode the problem is recorded, the
reader skips only the broken annotation (or file), and the full list ends up in ``Corpus.problems``. Facts that are
no error (an optional annotation layer absent from the release) are recorded by :meth:`ProblemLog.notice` in either
mode and end up in ``Corpus.notices``.
"""

from __future__ import annotations

import re
from pathlib import Path

from mtclin.corpora.types import Problem

_LABEL_LIKE = re.compile(r"[\w.:+-]{1,40}")  # no spaces and short: a code, not a sentence


class CorpusFormatError(ValueError):
    """A raw corpus file does not follow its official format. ``problem`` says where and what."""

    def __init__(self, problem: Problem):
        super().__init__(f"{problem} (use --lenient to skip broken annotations and get a full report)")
        self.problem = problem


class ProblemLog:
    """Collects problems relative to a corpus root; raises on the first one unless ``lenient``."""

    def __init__(self, root: Path, lenient: bool = False):
        self.root = Path(root)
        self.lenient = lenient
        self.problems: list[Problem] = []
        self.notices: list[Problem] = []

    def relative(self, path: Path | str) -> str:
        path = Path(path)
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def report(self, path: Path | str, position: str | int | None, message: str) -> None:
        """Record a problem (``position``: e.g. ``"line 14"``, ``"offset 120"``); raises in strict mode."""
        if isinstance(position, int):
            position = f"line {position}"
        problem = Problem(self.relative(path), position or "", message)
        if not self.lenient:
            raise CorpusFormatError(problem)
        self.problems.append(problem)

    def notice(self, path: Path | str, message: str) -> None:
        """Record something a user must know that is no error (never raises): e.g. a split read without
        assertions because its release has no assertion files."""
        self.notices.append(Problem(self.relative(path), "", message))


def shown(value: str) -> str:
    """How a message shows a value found where a label belongs: quoted when it looks like a label (a short code
    without spaces), else only its length (it may be a sentence in the wrong field)."""
    return repr(value) if _LABEL_LIKE.fullmatch(value) else f"of {len(value)} characters"


def read_text(path: Path, log: ProblemLog) -> str | None:
    """The file decoded as UTF-8 exactly as stored (no newline translation, no stripping: offsets count every
    character). Reports undecodable bytes (by byte offset) and empty files; returns None where the file is
    unusable in lenient mode."""
    data = Path(path).read_bytes()
    if not data.removeprefix(b"\xef\xbb\xbf").strip():  # a UTF-8 BOM alone is still an empty file
        log.report(path, "", "file is empty")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        log.report(path, f"line {line} (byte {err.start})", f"not valid UTF-8 ({err.reason})")
        return None
