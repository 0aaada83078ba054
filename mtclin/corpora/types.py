"""What every corpus reader yields: documents with gold character spans, or sentence pairs.

These types carry note text, which may be PHI: they stay inside the training boundary and are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence, Union

# corpora are ner | nli | sts; assertion and relation tasks are derived from a NER corpus (corpora.registry.derive)
TaskKind = Literal["ner", "nli", "sts", "assertion", "relation"]
LINK_KINDS: tuple[str, ...] = ("assertion", "relation")  # tasks over a NER corpus's entities, in its NER windows


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
class Assertion:
    """What the note asserts about one entity (i2b2-2010: a problem is ``present``, ``absent``, ``possible``, ...).
    ``entity`` is the id of an entity of the same document; at most one assertion per entity."""

    entity: str
    value: str


@dataclass(frozen=True)
class Relation:
    """A typed, directed link between two entities of the same document, named by their ids (i2b2-2010 ``TrAP``:
    ``arg1`` the treatment, ``arg2`` the problem; n2c2-2018 ``Form-Drug``: ``arg1`` the attribute, ``arg2`` the
    Drug). ``id`` is the annotation's own (BRAT ``R22``) or, where the format has none, says where it came from."""

    id: str
    type: str
    arg1: str
    arg2: str


@dataclass(frozen=True)
class Document:
    """A note (or a sub-document) and its gold annotations. ``id`` is the file's path relative to the corpus root,
    without its extension, so it is unique within a corpus and says where the note came from.

    ``assertions`` and ``relations`` refer to ``entities`` by id (every id they name is one of them). They are empty
    for corpora that annotate neither, so readers and callers that know only entities are unaffected. Every reader
    returns all three in one canonical order (:func:`sort_entities`, :func:`sort_assertions`,
    :func:`sort_relations`), so a document read twice, or written by a sample writer and read back, compares equal
    whatever order its files listed them in."""

    id: str
    text: str
    entities: tuple[Entity, ...]
    assertions: tuple[Assertion, ...] = ()
    relations: tuple[Relation, ...] = ()


def sort_entities(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    """Entities in the readers' canonical order: (start, end, type, id)."""
    return tuple(sorted(entities, key=lambda e: (e.start, e.end, e.type, e.id)))


def _rank(entities: Sequence[Entity]) -> dict[str, int]:
    return {entity.id: index for index, entity in enumerate(entities)}


def sort_assertions(assertions: Iterable[Assertion], entities: Sequence[Entity]) -> tuple[Assertion, ...]:
    """``assertions`` in the order of the (sorted) ``entities`` they are about."""
    rank = _rank(entities)
    return tuple(sorted(assertions, key=lambda a: (rank[a.entity], a.value)))


def sort_relations(relations: Iterable[Relation], entities: Sequence[Entity]) -> tuple[Relation, ...]:
    """``relations`` ordered by (first argument, second argument, type, id), arguments in ``entities`` order
    (annotation files list relations in no particular order)."""
    rank = _rank(entities)
    return tuple(sorted(relations, key=lambda r: (rank[r.arg1], rank[r.arg2], r.type, r.id)))


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
    """A corpus as read: its examples per split (``train``, ``test``) and every problem found.

    ``assertion_values`` and ``relation_types``: what its documents' assertions and relations may hold (empty when
    the corpus annotates none). ``notices``: facts about the release that are no error, so they never raise, but a
    user must see them (e.g. a split whose assertion files are absent, read without assertions)."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...]
    splits: dict[str, list[Example]]
    problems: list[Problem] = field(default_factory=list)
    assertion_values: tuple[str, ...] = ()
    relation_types: tuple[str, ...] = ()
    notices: list[Problem] = field(default_factory=list)
