"""What every corpus reader yields: documents with gold character spans, or sentence pairs.

These types carry note text, which may be PHI: they stay inside the training boundary and are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

TaskKind = Literal["ner", "nli", "sts"]


@dataclass(frozen=True)
class Entity:
    """One gold annotation. ``fragments`` are half-open ``(start, end)`` character offsets into the document
    text, sorted; more than one fragment means a discontinuous entity (BRAT ``T7\tReason 100 110;115 120``)."""

    id: str
    type: str
    fragments: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]

    @property
    def discontinuous(self) -> bool:
        return len(self.fragments) > 1


@dataclass(frozen=True)
class Document:
    """A note (or a sub-document) and its gold entities. ``id`` is the file's path relative to the corpus root,
    without its extension, so it is unique within a corpus and says where the note came from."""

    id: str
    text: str
    entities: tuple[Entity, ...]


@dataclass(frozen=True)
class Pair:
    """A sentence pair: ``label`` for entailment corpora, ``score`` (0-5) for similarity."""

    id: str
    a: str
    b: str
    label: str | None = None
    score: float | None = None


Example = Union[Document, Pair]


@dataclass(frozen=True)
class Problem:
    """Something wrong in a raw file: where (file relative to the corpus root, and a line or offset) and what.
    Messages never quote note text (it may be PHI): they give offsets, lengths and annotation ids."""

    file: str
    position: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.position}" if self.position else self.file
        return f"{where}: {self.message}"


@dataclass
class Corpus:
    """A corpus as read: its examples per split (``train``, ``test``) and every problem found."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...]
    splits: dict[str, list[Example]]
    problems: list[Problem] = field(default_factory=list)
