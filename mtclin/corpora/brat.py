"""BRAT standoff (n2c2-2018, quaero-2014, declared `brat` corpora): a note ``X.txt`` beside its annotations ``X.ann``.

An ``.ann`` line is ``ID\\tMIDDLE[\\tTEXT]``. Only text-bound ``T`` lines become entities::

    T41\\tForm 8977 8990\\tophthalmology          (half-open character offsets into X.txt)
    T7\\tReason 100 110;115 120\\tleft leg          (discontinuous: TEXT = the fragments' texts joined by ' ',
                                                or in one of the other forms below)

Relation lines (``R22\\tForm-Drug Arg1:T41 Arg2:T40``) are checked for shape. A reader that declares its relations
(``signatures``: type -> the entity types of Arg1 and Arg2; n2c2-2018's ``Form-Drug: (Form, Drug)``) also keeps them,
as relations from Arg1 to Arg2 (roles by name, in either listed order), after checking each (:func:`check_relations`):
a declared type, the roles Arg1 and Arg2, and arguments that are kept ``T`` entities of the same file (not an id no
``T`` line defines, nor one whose ``T`` line was skipped as broken) of the types its signature names; a relation
failing a check is a problem and is skipped. The other readers (quaero, declared ``brat`` corpora) drop them, as
they did before relations were read.

Event, attribute, normalisation, note and equivalence lines (``E A M N # *``, e.g. ``N1\\tReference T1
MeSH:D011125``) are accepted whatever follows their id: no task uses them, and exports differ in what they put
there. Problem messages give ids, offsets and lengths, never note text (it may be PHI).

Span text checks compare with whitespace normalised: BRAT writes a newline inside a span as a space. The TEXT
of a discontinuous entity is correct when it equals any of three forms seen in real releases (n2c2-2018): the
fragments' texts joined by one space (what brat writes), their plain concatenation (touching fragments,
``T33\\tForm 4765 4771;4771 4781\\tTablet, Chewable``) or the covering text from the first start to the last
end (``15488 15501;15503 15511`` with TEXT ``hydromorphone (Dilaudid``); the rule holds for every BRAT corpus.

A span text that does not match is reported, but in lenient mode the entity is KEPT when its offsets are valid
(some real quaero EMEA files have offsets one character off their text; dropping their 412 entities silently
would be worse than keeping them flagged). Offsets outside the text, reversed or overlapping fragments, bad
syntax and unknown labels drop the entity. Fragments listed out of text order (``T5\\tPROC 109 117;84 95``, the
TEXT following the listed order) are valid and returned sorted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from mtclin.corpora.problems import ProblemLog, read_text, shown
from mtclin.corpora.types import Document, Entity, Relation, sort_relations

Fragments = tuple[tuple[int, int], ...]
Signatures = Mapping[str, tuple[str, str]]  # relation type -> (type of Arg1, type of Arg2)

# Ids of the line kinds accepted unchecked: events, attributes (M: their old name), normalisations, notes, equivalences.
_UNCHECKED_ID = re.compile(r"[EAMN]\d+|#\d*|\*")
_T_ID = re.compile(r"T\d+")
LABEL = re.compile(r"[A-Za-z_][\w-]{0,40}")  # a BRAT type name
_FRAGMENT = re.compile(r"(\d+) (\d+)")
_R_ID = re.compile(r"R\d+")
_R_MIDDLE = re.compile(r"(\S+) (\S+):(\S+) (\S+):(\S+)")  # TYPE ROLE:ID ROLE:ID
_R_EXAMPLE = "R22<tab>Form-Drug Arg1:T41 Arg2:T40"
ROLES = ("Arg1", "Arg2")


@dataclass(frozen=True)
class TextBound:
    """A parsed ``T`` line, not yet checked against the note: ``surface`` is the line's own TEXT field and
    ``line`` its 1-based line number in the ``.ann`` file."""

    id: str
    type: str
    fragments: Fragments
    surface: str
    line: int


def entity_sort_key(entity: Entity) -> tuple[int, int, str, str]:
    """The order readers return entities in: (start, end, type, id)."""
    return (entity.start, entity.end, entity.type, entity.id)


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace to one space and trim: how span texts are compared."""
    return " ".join(text.split())


def span_text(text: str, fragments: Fragments) -> str:
    """The surface BRAT writes for ``fragments`` of ``text``: fragment texts joined by ' ', newlines as spaces."""
    return " ".join(text[start:end] for start, end in fragments).replace("\n", " ").replace("\r", " ")


def format_text_bound(entity: Entity, text: str) -> str:
    """The ``.ann`` line (no newline) for ``entity`` of note ``text``, as BRAT writes it."""
    offsets = ";".join(f"{start} {end}" for start, end in entity.fragments)
    return f"{entity.id}\t{entity.type} {offsets}\t{span_text(text, entity.fragments)}"


def _describe(fragments: Fragments) -> str:
    return ";".join(f"{start}-{end}" for start, end in fragments)


def _parse_fragments(field: str) -> Fragments | None:
    fragments = []
    for part in field.split(";"):
        match = _FRAGMENT.fullmatch(part)
        if match is None:
            return None
        fragments.append((int(match[1]), int(match[2])))
    return tuple(fragments)


def _parse_t_line(fields: list[str], number: int, path: Path, log: ProblemLog) -> TextBound | None:
    ident = fields[0]
    if len(fields) < 3:
        log.report(path, number, f"text-bound line has {len(fields)} tab-separated field(s), expected 3 "
                                 "('T1<tab>TYPE START END<tab>TEXT'); annotation skipped")
        return None
    if not _T_ID.fullmatch(ident):
        log.report(path, number, f"text-bound id of {len(ident)} chars is not T<number>; annotation skipped")
        return None
    label, _, offsets = fields[1].partition(" ")
    fragments = _parse_fragments(offsets)
    if fragments is None:
        log.report(path, number, f"{ident}: offsets field ({len(offsets)} chars) is not 'START END' or "
                                 "'START END;START END...'; annotation skipped")
        return None
    return TextBound(ident, label, fragments, fields[2], number)



@dataclass(frozen=True)
class RelationLine:
    """A parsed ``R`` line, not yet checked against the entities: ``args`` are ``(role, id)`` as listed."""

    id: str
    type: str
    args: tuple[tuple[str, str], tuple[str, str]]
    line: int


def parse_relation_line(fields: list[str], number: int, path: Path, log: ProblemLog) -> RelationLine | None:
    """The ``R`` line split on its first two tabs (None after a report when it is malformed)."""
    match = _R_MIDDLE.fullmatch(fields[1]) if len(fields) >= 2 else None
    if not _R_ID.fullmatch(fields[0]) or match is None:
        log.report(path, number, f"malformed 'R' annotation line (expected e.g. '{_R_EXAMPLE}'); line skipped")
        return None
    return RelationLine(fields[0], match[1], ((match[2], match[3]), (match[4], match[5])), number)


def _error(relation: RelationLine, kept: Mapping[str, Entity], defined: set[str], signatures: Signatures
           ) -> str | None:
    """Why ``relation`` cannot be kept (None: it can)."""
    if relation.type not in signatures:
        return f"unknown relation type {shown(relation.type)} (expected one of {', '.join(signatures)})"
    roles = dict(relation.args)
    if sorted(roles) != list(ROLES):
        return f"its roles must be {' and '.join(ROLES)}"
    for role in ROLES:
        ident = roles[role]
        if ident in kept:
            continue
        if not _T_ID.fullmatch(ident):
            return f"{role} {shown(ident)} is not a T id (a text-bound annotation)"
        if ident in defined:
            return f"{role} {ident}: its T line was skipped as broken (see the problem reported for it)"
        return f"{role} {ident}: no T line of this file defines it"
    for role, wanted in zip(ROLES, signatures[relation.type]):
        if kept[roles[role]].type != wanted:
            return f"{role} {roles[role]} is a {kept[roles[role]].type}, but {relation.type} takes a {wanted} there"
    return None


def check_relations(lines: Sequence[RelationLine], entities: Sequence[Entity], defined: set[str],
                    signatures: Signatures, path: Path, log: ProblemLog) -> tuple[Relation, ...]:
    """The relations of ``lines`` that pass the checks of the module docstring against the kept ``entities``
    (``defined``: every ``T`` id the file's lines define, kept or not, to say why an argument is missing).
    Unordered; see links.py."""
    kept = {entity.id: entity for entity in entities}
    relations: list[Relation] = []
    seen: set[str] = set()
    for relation in lines:
        where = f"line {relation.line}"
        if relation.id in seen:
            log.report(path, where, f"{relation.id}: id already used earlier in this file; relation skipped")
            continue
        seen.add(relation.id)
        error = _error(relation, kept, defined, signatures)
        if error is not None:
            log.report(path, where, f"{relation.id}: {error}; relation skipped")
            continue
        roles = dict(relation.args)
        relations.append(Relation(relation.id, relation.type, roles["Arg1"], roles["Arg2"]))
    return tuple(relations)


@dataclass(frozen=True)
class Annotations:
    """What :func:`parse_annotations` finds in an ``.ann`` file: ``T`` and ``R`` lines, in file order, and every
    ``T`` id defined (those skipped as broken too: a relation naming one is told why it has no argument)."""

    bounds: list[TextBound]
    relations: list[RelationLine]
    defined: set[str]


def parse_annotations(content: str, path: Path, log: ProblemLog) -> Annotations:
    """Parse the content of an ``.ann`` file: its ``T`` lines (duplicate ids, bad offset syntax reported and
    skipped) and ``R`` lines (malformed ones reported and skipped); ``E A M N # *`` lines are accepted as they are
    and dropped. Blank lines are allowed."""
    found = Annotations([], [], set())
    seen: set[str] = set()
    for number, line in enumerate(content.split("\n"), start=1):
        line = line.rstrip("\r")  # CRLF-written .ann files
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        if _UNCHECKED_ID.fullmatch(line.split(None, 1)[0]):
            continue  # E A M N # * lines, even without a tab after their id: nothing reads them
        if len(fields) < 2 and not fields[0].startswith("T"):
            log.report(path, number, "unparsable line: no tab after the annotation id; line skipped")
        elif fields[0].startswith("T"):
            if _T_ID.fullmatch(fields[0]):
                found.defined.add(fields[0])
            bound = _parse_t_line(fields, number, path, log)
            if bound is not None and bound.id in seen:
                log.report(path, number, f"{bound.id}: id already used earlier in this file; annotation skipped")
            elif bound is not None:
                seen.add(bound.id)
                found.bounds.append(bound)
        elif fields[0].startswith("R"):
            relation = parse_relation_line(fields, number, path, log)
            if relation is not None:
                found.relations.append(relation)
        else:
            log.report(path, number, "unparsable line: does not start with a BRAT id (T, R, E, A, M, N, # or *) "
                                     "followed by a tab; line skipped")
    return found


def parse_ann(content: str, path: Path, log: ProblemLog) -> list[TextBound]:
    """The ``T`` lines of an ``.ann`` file in file order (see :func:`parse_annotations`, which also returns
    the ``R`` lines)."""
    return parse_annotations(content, path, log).bounds


def _offset_error(bound: TextBound, length: int) -> str | None:
    previous_end = 0
    for start, end in sorted(bound.fragments):
        if end <= start:
            return f"fragment {start}-{end} is reversed or empty (end <= start)"
        if end > length:
            return f"fragment {start}-{end} ends past the end of the text ({length} chars)"
        if start < previous_end:
            return "fragments overlap"
        previous_end = end
    return None


def surface_matches(text: str, fragments: Fragments, surface: str) -> bool:
    """Whether an annotation's TEXT field ``surface`` is right for ``fragments`` (in their listed order) of
    ``text``, whitespace normalised. One fragment: its text. Several: the fragments joined by one space (brat),
    concatenated (touching fragments), or the covering text from the first start to the last end."""
    wanted = normalise_space(surface)
    if wanted == normalise_space(span_text(text, fragments)):
        return True
    if len(fragments) == 1:
        return False
    covering = text[min(start for start, _ in fragments):max(end for _, end in fragments)]
    concatenated = "".join(text[start:end] for start, end in fragments)
    return wanted in (normalise_space(concatenated), normalise_space(covering))


def _shift_hint(text: str, bound: TextBound) -> str:
    # The known quaero quirk: whole files annotated one character off. Saying so makes the report actionable.
    for shift in (-1, 1, -2, 2):
        moved = tuple((start + shift, end + shift) for start, end in bound.fragments)
        inside = min(start for start, _ in moved) >= 0 and max(end for _, end in moved) <= len(text)
        if inside and surface_matches(text, moved, bound.surface):
            return f"; the offsets look shifted by {shift:+d}"
    return ""


def check_entities(bounds: Sequence[TextBound], text: str, labels: Sequence[str] | None, path: Path,
                   log: ProblemLog) -> tuple[Entity, ...]:
    """Check parsed ``T`` lines against the note ``text`` and the declared ``labels`` (None: any well-formed BRAT
    type name, for a corpus whose labels are taken from its train split); return the entities
    sorted by (start, end, type, id), each with its fragments sorted. Fragments listed out of text order are valid
    BRAT (the TEXT field follows the listed order; real quaero files do this): they are sorted, not reported.
    Unknown labels, offsets past the text, reversed or overlapping fragments drop the entity. A span text mismatch
    (see :func:`surface_matches` for the forms a discontinuous entity's TEXT may take) is reported (strict mode
    raises) but the entity is kept in lenient mode, since its offsets are usable."""
    entities = []
    for bound in bounds:
        where = f"line {bound.line} (offsets {_describe(bound.fragments)})"
        if labels is None and not LABEL.fullmatch(bound.type):
            log.report(path, where, f"{bound.id}: label of {len(bound.type)} chars is not a BRAT type name "
                                    "(letters, digits, '_' or '-'); annotation skipped")
            continue
        if labels is not None and bound.type not in labels:
            shown = repr(bound.type) if LABEL.fullmatch(bound.type) else f"of {len(bound.type)} chars"
            log.report(path, where, f"{bound.id}: unknown label {shown} (expected one of {', '.join(labels)}); "
                                    "annotation skipped")
            continue
        error = _offset_error(bound, len(text))
        if error is not None:
            log.report(path, where, f"{bound.id} {bound.type}: {error}; annotation skipped")
            continue
        if not surface_matches(text, bound.fragments, bound.surface):
            got, wanted = normalise_space(span_text(text, bound.fragments)), normalise_space(bound.surface)
            forms = "" if len(bound.fragments) == 1 else (
                " (fragments joined by a space; concatenated or as the covering text do not match either)")
            log.report(path, where, f"{bound.id} {bound.type}: span text ({len(got)} chars){forms} does not match "
                                    f"the annotation's text ({len(wanted)} chars){_shift_hint(text, bound)}; "
                                    "entity kept in lenient mode")
        entities.append(Entity(bound.id, bound.type, tuple(sorted(bound.fragments))))
    return tuple(sorted(entities, key=entity_sort_key))


def read_ann_text(path: Path, log: ProblemLog) -> str | None:
    """The ``.ann`` content; an empty file is valid (a note without entities). None if it is not UTF-8. A UTF-8
    BOM is dropped: no offset points into the ``.ann`` (unlike the ``.txt``, where brat counts it as a character)."""
    if not Path(path).read_bytes().strip():
        return ""
    content = read_text(path, log)
    return None if content is None else content.removeprefix("\ufeff")


def read_document(txt: Path, ann: Path, labels: Sequence[str] | None, log: ProblemLog,
                  relations: Signatures | None = None) -> Document | None:
    """One note, its checked entities and, where ``relations`` declares the corpus's relation types (type ->
    argument types; see :func:`check_relations`), the checked relations between them (None: ``R`` lines are checked for
    shape only and not kept). ``Document.id`` is the .txt path relative to the corpus root without extension. None
    when the note or its annotations cannot be read (reported)."""
    text = read_text(txt, log)
    content = read_ann_text(ann, log)
    if text is None or content is None:
        return None
    found = parse_annotations(content, ann, log)
    entities = check_entities(found.bounds, text, labels, ann, log)
    links = () if relations is None else check_relations(found.relations, entities, found.defined, relations, ann, log)
    return Document(log.relative(txt.with_suffix("")), text, entities, relations=sort_relations(links, entities))


def pair_files(paths: Iterable[Path], log: ProblemLog) -> list[tuple[Path, Path]]:
    """Match each ``X.txt`` with the ``X.ann`` in the same folder, sorted by path. A note without annotations
    (or annotations without their note) is reported and left out."""
    stems: dict[Path, set[str]] = {}
    for path in paths:
        if path.suffix in (".txt", ".ann"):
            stems.setdefault(path.with_suffix(""), set()).add(path.suffix)
    pairs = []
    for stem in sorted(stems, key=lambda p: p.as_posix()):
        suffixes = stems[stem]
        if suffixes == {".txt", ".ann"}:
            pairs.append((stem.with_name(stem.name + ".txt"), stem.with_name(stem.name + ".ann")))
        elif ".txt" in suffixes:
            log.report(stem.with_name(stem.name + ".txt"), "", f"no annotation file {stem.name}.ann beside this "
                                                               "note; document skipped")
        else:
            log.report(stem.with_name(stem.name + ".ann"), "", f"no note {stem.name}.txt beside these "
                                                               "annotations; file skipped")
    return pairs


def is_release_file(path: Path) -> bool:
    """False for archive debris that rglob would pick up: macOS ``__MACOSX`` folders and ``._`` resource forks."""
    return not path.name.startswith("._") and "__MACOSX" not in path.parts


def read_documents(paths: Iterable[Path], labels: Sequence[str] | None, log: ProblemLog,
                   relations: Signatures | None = None) -> list[Document]:
    """Read every matched ``.txt``/``.ann`` pair among ``paths`` into documents, sorted by id (``labels``: as for
    :func:`check_entities`; ``relations``: as for :func:`read_document`)."""
    documents = (read_document(txt, ann, labels, log, relations) for txt, ann in pair_files(paths, log))
    return [document for document in documents if document is not None]
