"""Finding a release's files by their official names, whatever the nesting the user unpacked them into."""

from __future__ import annotations

from pathlib import Path

from mtclin.corpora.problems import ProblemLog


def find_file(root: Path, name: str, log: ProblemLog) -> Path | None:
    """The one file called ``name`` anywhere under ``root`` (None if absent); several copies are a problem,
    after which the first in sorted order is used."""
    hits = sorted(path for path in root.rglob(name) if path.is_file())
    if len(hits) > 1:
        log.report(root, "", f"{len(hits)} copies of {name}: {', '.join(log.relative(p) for p in hits)}; "
                             "keep only one")
    return hits[0] if hits else None
