"""The lines of the i2b2-2010 annotation files (``.con``, ``.ast``, ``.rel``) and what they become: entities, and
the assertions and relations linked to them.

Every line names concepts as ``c="chest pain" 12:3 12:4``: the concept text lower-cased, then first and last token
as ``line:token`` (lines 1-based, tokens 0-based, last token inclusive); a concept may run across lines. Tokens are
``line.split(' ')`` of the ``.txt``, so a double space makes an empty token that counts.

- ``.con``, one concept per line: ``c="chest pain" 12:3 12:4||t="problem"`` (an entity, id ``L<line>``).
- ``.ast``, one line per problem: ``c="chest pain" 12:3 12:4||t="problem"||a="absent"``; six values
  (:data:`ASSERTION_VALUES`). Becomes ``Assertion(<entity id>, value)``.
- ``.rel``, one line per relation: ``c="coumadin" 45:1 45:1||r="TrAP"||c="afib" 45:4 45:4``; eight types
  (:data:`RELATION_ARGUMENTS`), the first concept the treatment or test (the first problem for PIP). Becomes
  ``Relation("R<line of the .rel>", type, <arg1 id>, <arg2 id>)``.

Every concept reference of an ``.ast``/``.rel`` line is checked against the note exactly as a ``.con`` line is
(tokens in range, quoted text matching them), then linked to the ``.con`` concept at the same tokens and of the type
the line implies (an assertion's ``t=``; a relation's argument types). A reference to no concept, or to one of
another type, is a problem: the line is skipped in lenient mode, like a broken ``.con`` line. An empty ``.ast`` or
``.rel`` is valid (a note without problems or without relations). Messages name positions and lengths, never the
text (it may be PHI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mtclin.corpora.problems import ProblemLog, read_text, shown
from mtclin.corpora.types import Assertion, Entity, Relation

ASSERTION_VALUES: tuple[str, ...] = (
    "present", "absent", "possible", "conditional", "hypothetical", "associated_with_someone_else")
ASSERTED_TYPE = "problem"  # the release asserts problems only
# Relation type -> (type of the first concept, type of the second).
RELATION_ARGUMENTS: dict[str, tuple[str, str]] = {
    "TrIP": ("treatment", "problem"), "TrWP": ("treatment", "problem"), "TrCP": ("treatment", "problem"),
    "TrAP": ("treatment", "problem"), "TrNAP": ("treatment", "problem"),
    "TeRP": ("test", "problem"), "TeCP": ("test", "problem"),
    "PIP": ("problem", "problem"),
}
RELATION_TYPES: tuple[str, ...] = tuple(RELATION_ARGUMENTS)

# One concept reference. Anchored on what follows the text (` L:T L:T`), so quotes inside the text are kept.
CONCEPT_REF = r'c="(?P<{p}text>.*)" (?P<{p}l1>\d+):(?P<{p}t1>\d+) (?P<{p}l2>\d+):(?P<{p}t2>\d+)'
_CONCEPT = re.compile(CONCEPT_REF.format(p="") + r'\|\|t="(?P<type>[^"]*)"')
_ASSERTION = re.compile(CONCEPT_REF.format(p="") + r'\|\|t="(?P<type>[^"]*)"\|\|a="(?P<value>[^"]*)"')
_RELATION = re.compile(CONCEPT_REF.format(p="a") + r'\|\|r="(?P<type>[^"]*)"\|\|' + CONCEPT_REF.format(p="b"))

TokenOffsets = list[list[tuple[int, int]]]  # per line (index 0 = line 1): each token's (start, end) in the text


@dataclass(frozen=True)
class Concept:
    """One parsed concept reference: the quoted text, first/last ``(line, token)`` and the type."""

    text: str
    first: tuple[int, int]
    last: tuple[int, int]
    type: str

    @property
    def position(self) -> str:
        """``12:3 12:4``, as the file writes it: how messages name the concept."""
        return f"{self.first[0]}:{self.first[1]} {self.last[0]}:{self.last[1]}"


def concept_from(match: re.Match[str], prefix: str = "", type: str = "") -> Concept:
    """The Concept of a regex match of :data:`CONCEPT_REF` formatted with group-name ``prefix``."""
    first = (int(match[f"{prefix}l1"]), int(match[f"{prefix}t1"]))
    last = (int(match[f"{prefix}l2"]), int(match[f"{prefix}t2"]))
    return Concept(match[f"{prefix}text"], first, last, type)


def annotation_lines(content: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of every non-blank line of an annotation file (a CRLF's ``\\r`` and the outer
    whitespace stripped; a BOM is no part of the first line)."""
    lines = content.removeprefix("\ufeff").split("\n")
    return [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]


def parse_concept(line: str) -> Concept | None:
    """Parse one ``.con`` line (None when it doesn't follow the format)."""
    match = _CONCEPT.fullmatch(line.rstrip("\r\n").strip())
    return None if match is None else concept_from(match, type=match["type"])


def token_offsets(text: str) -> TokenOffsets:
    """Per line (index 0 = line 1): each token's half-open character span in ``text``."""
    lines = []
    offset = 0
    for line in text.split("\n"):
        body = line[:-1] if line.endswith("\r") else line  # CRLF files: the \r belongs to no token
        spans = []
        position = offset
        if offset == 0 and body.startswith("\ufeff"):  # nor does a BOM (it stays in the text: offsets count it)
            body, position = body[1:], 1
        for token in body.split(" "):
            spans.append((position, position + len(token)))
            position += len(token) + 1
        lines.append(spans)
        offset += len(line) + 1
    return lines


def concept_entity(concept: Concept, ident: str, labels: Sequence[str], text: str, lines: TokenOffsets,
                   path: Path, number: int, log: ProblemLog) -> Entity | None:
    """The entity ``concept`` (line ``number`` of ``path``) points to in the note, or None (after a report) when
    it is unusable: unknown type, reversed, outside the text, or its quoted text does not match its tokens."""
    span = concept.position
    if concept.type not in labels:
        log.report(path, number, f"concept {span}: unknown type {concept.type!r} (known: {', '.join(labels)})")
        return None
    if concept.last < concept.first:
        log.report(path, number, f"concept {span}: reversed span (ends before it starts)")
        return None
    for line_no, token in (concept.first, concept.last):
        if not 1 <= line_no <= len(lines):
            n_lines = len(lines) - (lines[-1] == [(len(text), len(text))])  # a final newline opens no line
            log.report(path, number, f"concept {span}: line {line_no} is outside the text ({n_lines} lines)")
            return None
        if token >= len(lines[line_no - 1]):
            log.report(path, number, f"concept {span}: token {token} is past the end of line {line_no} "
                                     f"({len(lines[line_no - 1])} tokens)")
            return None
    start = lines[concept.first[0] - 1][concept.first[1]][0]
    end = lines[concept.last[0] - 1][concept.last[1]][1]
    # The quoted text is lower-cased and joins lines; compare without case and whitespace.
    if "".join(text[start:end].lower().split()) != "".join(concept.text.lower().split()):
        log.report(path, number, f"concept {span}: quoted text ({len(concept.text)} characters) does not match "
                                 f"the tokens it points to ({end - start} characters at offset {start})")
        return None
    if end <= start:
        log.report(path, number, f"concept {span}: covers no characters (empty tokens only)")
        return None
    return Entity(ident, concept.type, ((start, end),))


class ConceptIndex:
    """The ``.con`` concepts of one note, found by the tokens an ``.ast``/``.rel`` reference names."""

    def __init__(self, text: str, lines: TokenOffsets, entities: Sequence[Entity], labels: Sequence[str],
                 con_name: str):
        self.text, self.lines, self.labels, self.con_name = text, lines, labels, con_name
        self._by_span: dict[tuple[int, int], list[Entity]] = {}
        for entity in entities:
            self._by_span.setdefault(entity.fragments[0], []).append(entity)

    def find(self, concept: Concept, path: Path, number: int, log: ProblemLog) -> Entity | None:
        """The ``.con`` entity at ``concept``'s tokens with ``concept.type`` (None after a report)."""
        pointed = concept_entity(concept, "", self.labels, self.text, self.lines, path, number, log)
        if pointed is None:
            return None
        found = self._by_span.get(pointed.fragments[0], [])
        for entity in found:
            if entity.type == concept.type:
                return entity
        if found:
            log.report(path, number, f"concept {concept.position}: the {self.con_name} concept at these tokens is a "
                                     f"{found[0].type}, expected a {concept.type} here; line skipped")
        else:
            log.report(path, number, f"concept {concept.position}: no concept at these tokens in {self.con_name} "
                                     "(or its line there was skipped as broken); line skipped")
        return None


def _content(path: Path, log: ProblemLog) -> str | None:
    # An empty .ast/.rel is valid (a note without problems or relations), unlike an empty .txt or .con.
    return "" if not Path(path).read_bytes().strip() else read_text(path, log)


def read_assertions(path: Path, concepts: ConceptIndex, log: ProblemLog) -> tuple[Assertion, ...]:
    """The assertions of one ``.ast`` file, each on a problem of the ``.con`` (unordered; see links.py)."""
    content = _content(path, log)
    if content is None:
        return ()
    assertions: dict[str, tuple[Assertion, int]] = {}
    for number, line in annotation_lines(content):
        match = _ASSERTION.fullmatch(line)
        if match is None:
            log.report(path, number, 'unparsable assertion line (expected c="..." L:T L:T||t="problem"||a="...")')
            continue
        concept, value = concept_from(match, type=match["type"]), match["value"]
        if concept.type != ASSERTED_TYPE:
            log.report(path, number, f"concept {concept.position}: type {shown(concept.type)}, but assertions are "
                                     f"on problems only (t=\"{ASSERTED_TYPE}\"); line skipped")
            continue
        if value not in ASSERTION_VALUES:
            log.report(path, number, f"concept {concept.position}: unknown assertion value {shown(value)} "
                                     f"(known: {', '.join(ASSERTION_VALUES)}); line skipped")
            continue
        entity = concepts.find(concept, path, number, log)
        if entity is None:
            continue
        if entity.id in assertions:
            log.report(path, number, f"concept {concept.position}: already asserted at line "
                                     f"{assertions[entity.id][1]}; line skipped")
            continue
        assertions[entity.id] = (Assertion(entity.id, value), number)
    return tuple(assertion for assertion, _ in assertions.values())


def read_relations(path: Path, concepts: ConceptIndex, log: ProblemLog) -> tuple[Relation, ...]:
    """The relations of one ``.rel`` file between concepts of the ``.con`` (unordered; see links.py)."""
    content = _content(path, log)
    if content is None:
        return ()
    relations: dict[tuple[str, str, str], tuple[Relation, int]] = {}
    for number, line in annotation_lines(content):
        match = _RELATION.fullmatch(line)
        if match is None:
            log.report(path, number, 'unparsable relation line (expected c="..." L:T L:T||r="..."||c="..." L:T L:T)')
            continue
        kind = match["type"]
        if kind not in RELATION_ARGUMENTS:
            log.report(path, number, f"unknown relation type {shown(kind)} (known: {', '.join(RELATION_TYPES)}); "
                                     "line skipped")
            continue
        first, second = RELATION_ARGUMENTS[kind]
        arg1 = concepts.find(concept_from(match, "a", first), path, number, log)
        arg2 = concepts.find(concept_from(match, "b", second), path, number, log) if arg1 is not None else None
        if arg1 is None or arg2 is None:
            continue
        key = (kind, arg1.id, arg2.id)
        if arg1.id == arg2.id:
            log.report(path, number, f"{kind}: both arguments are the same concept; line skipped")
        elif key in relations:
            log.report(path, number, f"{kind}: the same relation as line {relations[key][1]}; line skipped")
        else:
            relations[key] = (Relation(f"R{number}", kind, arg1.id, arg2.id), number)
    return tuple(relation for relation, _ in relations.values())
