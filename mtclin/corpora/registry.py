"""Registry of corpus readers under their versioned public names (``i2b2-2010``, ``medrqe``, ...).

A reader is a function ``read(root, *, splits=("train", "test"), lenient=False) -> Corpus``. A new corpus is one
new module plus one ``@register`` line; never change behaviour under an existing name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

from mtclin.corpora.types import Corpus, TaskKind

SPLITS: tuple[str, ...] = ("train", "test")  # what every release has
DEV = "dev"  # an official dev split, read by the readers of releases that have one (MedNLI, quaero)


class Reader(Protocol):
    def __call__(self, root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus: ...


@dataclass(frozen=True)
class CorpusInfo:
    name: str
    kind: TaskKind
    labels: tuple[str, ...]  # entity types (NER), class labels (NLI); empty for STS
    read: Reader
    splits: tuple[str, ...] = SPLITS  # the splits the reader knows; "dev" may come back empty (release without)


_READERS: dict[str, CorpusInfo] = {}

# Modules that register readers on import; imported lazily so `import mtclin` stays cheap.
_READER_MODULES = (
    "mtclin.corpora.i2b2_2010",
    "mtclin.corpora.i2b2_2012",
    "mtclin.corpora.i2b2_2014",
    "mtclin.corpora.n2c2_2018",
    "mtclin.corpora.quaero_2014",
    "mtclin.corpora.mednli",
    "mtclin.corpora.medrqe",
    "mtclin.corpora.n2c2_2019",
)

# The paper's eight corpora, in its Table 1/2 order.
CORPORA: tuple[str, ...] = (
    "n2c2-2019",
    "mednli",
    "medrqe",
    "n2c2-2018",
    "i2b2-2014",
    "i2b2-2012",
    "i2b2-2010",
    "quaero-2014",
)


def register(name: str, kind: TaskKind, labels: Sequence[str], splits: Sequence[str] = SPLITS
             ) -> Callable[[Reader], Reader]:
    def decorator(read: Reader) -> Reader:
        if name in _READERS and _READERS[name].read is not read:
            raise ValueError(f"corpus reader {name!r} is already registered")
        _READERS[name] = CorpusInfo(name, kind, tuple(labels), read, tuple(splits))
        return read

    return decorator


def _load_all() -> None:
    for module in _READER_MODULES:
        importlib.import_module(module)


def corpus_info(name: str) -> CorpusInfo:
    _load_all()
    if name not in _READERS:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(sorted(_READERS))}")
    return _READERS[name]


def read_corpus(name: str, root: Path, *, splits: Sequence[str] | None = None, lenient: bool = False) -> Corpus:
    """Read corpus ``name`` from the directory the user unpacked its official release into: ``splits``, or every
    split its reader knows (an official ``dev`` included where the release has one)."""
    info = corpus_info(name)
    return info.read(Path(root), splits=info.splits if splits is None else splits, lenient=lenient)
