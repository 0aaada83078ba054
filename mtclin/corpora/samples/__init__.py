"""Sample corpora: the built-in corpora generated in their exact official raw layouts (the embedded default data).

A built-in corpus's declaration names its sample writer (``@register(..., sample="module:write")``), a function
``write(root, *, seed, scale) -> gold per split``; declared corpora bring their own data and have none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.registry import CORPORA, corpus_info
from mtclin.corpora.types import Example


def write_sample(corpus: str, root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Example]]:
    """Write one sample corpus under ``root`` (its own directory, e.g. ``data/i2b2-2010``); returns its gold."""
    info = corpus_info(corpus)
    writer = info.sample_writer()
    if writer is None:
        raise KeyError(f"corpus {corpus!r} has no sample writer (only the built-in corpora have one: "
                       f"{', '.join(CORPORA)}); a declared corpus brings its own data under data/{corpus}/")
    return writer(Path(root), seed=seed, scale=scale)


class TargetNotEmpty(FileExistsError):
    pass


def write_samples(
    data_dir: Path, *, corpora: Sequence[str] = CORPORA, seed: int = 0, scale: float = 1.0,
    skip_existing: bool = False,
) -> list[str]:
    """Write the sample corpora into ``data_dir/<corpus>``. Never overwrites: a non-empty target directory (it may
    hold a real release) is an error, or skipped with ``skip_existing``. Returns the corpora written."""
    data_dir = Path(data_dir)
    occupied = [c for c in corpora if (data_dir / c).is_dir() and any((data_dir / c).iterdir())]
    if occupied and not skip_existing:
        raise TargetNotEmpty(
            f"{', '.join(str(data_dir / c) for c in occupied)} already hold files; sample corpora never overwrite "
            "(remove them, choose another directory, or pass --skip-existing)"
        )
    written = []
    for corpus in corpora:
        if corpus in occupied:
            continue
        write_sample(corpus, data_dir / corpus, seed=seed, scale=scale)
        written.append(corpus)
    return written
