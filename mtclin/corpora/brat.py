"""BRAT standoff (n2c2-2018, quaero-2014, declared `brat` corpora): a note ``X.txt`` beside its annotations ``X.ann``.

An ``.ann`` line is ``ID\\tMIDDLE[\\tTEXT]``. Only text-bound ``T`` lines become entities::

    T41\\tForm 8977 8990\\tophthalmology          (half-open character offsets into X.txt)
    T7\\tReason 100 110;115 120\\tleft leg          (discontinuous: TEXT = the fragments' texts joined by ' ',
                                                or in one of the other forms below)

Relation lines (``R``) are checked for shape and otherwise ignored. Event, attribute, normalisation, note and
equivalence lines (``E A M N # *``, e.g. ``N1\\tReference T1 MeSH:D011125``) are accepted whatever follows their
id: no task uses them, and exports differ in what they put there. Problem messages give ids, offsets and
lengths, never note text (it may be PHI).

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
from typing import Iterable, Sequence

from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.types import Document, Entity

Fragments = tuple[tuple[int, int], ...]

# Relation lines are checked for shape: (id pattern, MIDDLE field pattern, an example for the error message).
_RELATION = (r"R\d+", r"\S+ \S+:\S+ \S+:\S+", "R22<tab>Form-Drug Arg1:T41 Arg2:T40")
# Ids of the line kinds accepted unchecked: events, attributes (M: their old name), normalisations, notes, equivalences.
_UNCHECKED_ID = re.compile(r"[EAMN]\d+|#\d*|\*")
_T_ID = re.compile(r"T\d+")
LABEL = re.compile(r"[A-Za-z_][\w-]{0,40}")  # a BRAT type name
_FRAGMENT = re.compile(r"(\d+) (\d+)")


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


def _check_other_line(fields: list[str], number: int, path: Path, log: ProblemLog) -> None:
    """Report a line that is neither T, nor one of the unchecked kinds, nor a well-formed R line."""
    if not fields[0].startswith("R"):
        log.report(path, number, "unparsable line: does not start with a BRAT id (T, R, E, A, M, N, # or *) "
                                 "followed by a tab; line skipped")
        return
    id_pattern, middle_pattern, example = _RELATION
    if not re.fullmatch(id_pattern, fields[0]) or len(fields) < 2 or not re.fullmatch(middle_pattern, fields[1]):
        log.report(path, number, f"malformed 'R' annotation line (expected e.g. '{example}'); line skipped")


def parse_ann(content: str, path: Path, log: ProblemLog) -> list[TextBound]:
    """Parse the content of an ``.ann`` file: its ``T`` lines in file order (duplicate ids, bad offset syntax
    reported and skipped); ``R`` lines are checked for shape, ``E A M N # *`` lines accepted as they are, and all
    of them dropped. Blank lines are allowed."""
    bounds: list[TextBound] = []
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
            continue
        if fields[0].startswith("T"):
            bound = _parse_t_line(fields, number, path, log)
            if bound is None:
                continue
            if bound.id in seen:
                log.report(path, number, f"{bound.id}: id already used earlier in this file; annotation skipped")
                continue
            seen.add(bound.id)
            bounds.append(bound)
        else:
            _check_other_line(fields, number, path, log)
    return bounds


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


def read_document(txt: Path, ann: Path, labels: Sequence[str] | None, log: ProblemLog) -> Document | None:
    """One note and its checked entities; ``Document.id`` is the .txt path relative to the corpus root without
    extension. None when the note or its annotations cannot be read (reported)."""
    text = read_text(txt, log)
    content = read_ann_text(ann, log)
    if text is None or content is None:
        return None
    entities = check_entities(parse_ann(content, ann, log), text, labels, ann, log)
    return Document(log.relative(txt.with_suffix("")), text, entities)


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


def read_documents(paths: Iterable[Path], labels: Sequence[str] | None, log: ProblemLog) -> list[Document]:
    """Read every matched ``.txt``/``.ann`` pair among ``paths`` into documents, sorted by id (``labels``: as for
    :func:`check_entities`)."""
    documents = (read_document(txt, ann, labels, log) for txt, ann in pair_files(paths, log))
    return [document for document in documents if document is not None]
