"""Reader for i2b2-2010 concepts (problem / test / treatment), as released on the n2c2 portal.

Layout: train ``concept_assertion_relation_training_data/{beth,partners}/txt/<stem>.txt`` with
``.../concept/<stem>.con``; test ``test_data/<stem>.txt`` with
``reference_standard_for_test_data/concepts/<stem>.con``. A ``.txt`` has one sentence per line, tokens
separated by single spaces. A ``.con`` has one concept per line, ``c="chest pain" 12:3 12:4||t="problem"``: the
concept text lower-cased, then first and last token as ``line:token`` (lines 1-based, tokens 0-based, last token
inclusive); a concept may run across lines. Tokens are ``line.split(' ')``, so a double space makes an empty
token that counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Sequence

from mtclin.corpora.i2b2_xml import document_id, sort_entities
from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.registry import SPLITS, check_splits, register
from mtclin.corpora.types import Corpus, Document, Entity, Example

NAME = "i2b2-2010"
LABELS: tuple[str, ...] = ("problem", "test", "treatment")

TRAIN_DIR = "concept_assertion_relation_training_data"
TEST_TEXT_DIR = "test_data"
TEST_GOLD_DIR = "reference_standard_for_test_data"

# Anchored on the trailing `" L:T L:T||t="..."` so that quotes inside the concept text are kept.
_CONCEPT = re.compile(r'c="(?P<text>.*)" (?P<l1>\d+):(?P<t1>\d+) (?P<l2>\d+):(?P<t2>\d+)\|\|t="(?P<type>[^"]*)"')


@dataclass(frozen=True)
class Concept:
    """One parsed ``.con`` line: the quoted text, first/last ``(line, token)`` and the type."""

    text: str
    first: tuple[int, int]
    last: tuple[int, int]
    type: str


@register(NAME, "ner", LABELS, paper_order=7, sample="mtclin.corpora.samples.i2b2_2010:write")
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits under ``root`` (the unpacked release): one Document per ``.txt`` with its
    concepts as character spans (entity ids ``L<line of the .con>``). Strict mode raises CorpusFormatError
    on the first problem; lenient mode skips the broken concept (or file) and lists every problem."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    check_splits(NAME, splits, SPLITS)
    out: dict[str, list[Example]] = {}
    for split in splits:
        out[split] = []
        pairs = _train_pairs(root, log) if split == "train" else _test_pairs(root, log)
        if pairs is None:
            continue
        for txt, con in pairs:
            document = read_document(txt, con, root, log)
            if document is not None:
                out[split].append(document)
    return Corpus(NAME, "ner", LABELS, out, log.problems)


def _files(root: Path, dir_parts: tuple[str, ...], suffix: str) -> list[Path]:
    """``*<suffix>`` files directly inside directories whose path ends with ``dir_parts`` ("*" matches any
    one name), skipping archive debris (``__MACOSX/``, ``._name``)."""
    found = []
    for path in root.rglob(f"*{suffix}"):
        rel = path.relative_to(root)
        tail = rel.parts[-len(dir_parts) - 1:-1]
        if (path.is_file() and len(tail) == len(dir_parts) and "__MACOSX" not in rel.parts
                and not rel.name.startswith("._") and all(p in ("*", t) for p, t in zip(dir_parts, tail))):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _pair_up(txts: list[Path], cons: list[Path], key: Callable[[Path], Hashable],
             log: ProblemLog) -> list[tuple[Path, Path]]:
    """Pair each .txt with the .con of the same key; report files without a partner."""
    con_by_key = {key(c): c for c in cons}
    txt_keys = {key(t) for t in txts}
    for con in cons:
        if key(con) not in txt_keys:
            log.report(con, "", "concept file without its .txt (expected one with the same name)")
    pairs = []
    for txt in txts:
        if key(txt) in con_by_key:
            pairs.append((txt, con_by_key[key(txt)]))
        else:
            log.report(txt, "", "text file without its .con concept file")
    return pairs


def _train_pairs(root: Path, log: ProblemLog) -> list[tuple[Path, Path]] | None:
    txts = _files(root, (TRAIN_DIR, "*", "txt"), ".txt")
    cons = _files(root, (TRAIN_DIR, "*", "concept"), ".con")
    if not txts and not cons:
        log.report(root, "", f"split 'train': no {NAME} files ({TRAIN_DIR}/{{beth,partners}}/txt/*.txt) "
                             f"found under {root}")
        return None
    # Key: the source directory (beth, partners) plus the stem.
    return _pair_up(txts, cons, lambda p: (p.parent.parent, p.stem), log)


def _test_pairs(root: Path, log: ProblemLog) -> list[tuple[Path, Path]] | None:
    txts = _files(root, (TEST_TEXT_DIR,), ".txt")
    cons = _files(root, (TEST_GOLD_DIR, "concepts"), ".con")
    if not txts and not cons:
        log.report(root, "", f"split 'test': no {NAME} files ({TEST_TEXT_DIR}/*.txt) found under {root}")
        return None
    # Text and gold come as separate archives that may be unpacked apart: pair by stem, and by what lies
    # above test_data/ and reference_standard_for_test_data/ only where a stem occurs more than once.
    if len({p.stem for p in txts}) == len(txts) and len({p.stem for p in cons}) == len(cons):
        return _pair_up(txts, cons, lambda p: p.stem, log)
    return _pair_up(txts, cons, lambda p: (_above(p, TEST_TEXT_DIR, TEST_GOLD_DIR), p.stem), log)


def _above(path: Path, *names: str) -> Path:
    """The directory holding the first ancestor of ``path`` named one of ``names``."""
    for parent in path.parents:
        if parent.name in names:
            return parent.parent
    return path.parent


def read_document(txt: Path, con: Path, root: Path, log: ProblemLog) -> Document | None:
    """One note and its concepts as a Document (None when either file is unusable)."""
    text = read_text(txt, log)
    annotations = read_text(con, log)
    if text is None or annotations is None:
        return None
    annotations = annotations.removeprefix("\ufeff")  # a BOM is no part of the first concept line
    lines = _token_offsets(text)
    entities = []
    for number, line in enumerate(annotations.split("\n"), start=1):
        if not line.strip():
            continue
        concept = parse_concept(line)
        if concept is None:
            log.report(con, number, 'unparsable concept line (expected c="..." L:T L:T||t="...")')
            continue
        entity = _entity(concept, f"L{number}", text, lines, con, number, log)
        if entity is not None:
            entities.append(entity)
    return Document(document_id(txt, root), text, sort_entities(entities))


def parse_concept(line: str) -> Concept | None:
    """Parse one ``.con`` line (None when it doesn't follow the format)."""
    match = _CONCEPT.fullmatch(line.rstrip("\r\n").strip())
    if match is None:
        return None
    first = (int(match["l1"]), int(match["t1"]))
    last = (int(match["l2"]), int(match["t2"]))
    return Concept(match["text"], first, last, match["type"])


def _token_offsets(text: str) -> list[list[tuple[int, int]]]:
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


def _entity(concept: Concept, ident: str, text: str, lines: list[list[tuple[int, int]]], con: Path,
            number: int, log: ProblemLog) -> Entity | None:
    """The entity of one concept, or None (after a report) when it is unusable."""
    span = f"{concept.first[0]}:{concept.first[1]} {concept.last[0]}:{concept.last[1]}"
    if concept.type not in LABELS:
        log.report(con, number, f"concept {span}: unknown type {concept.type!r} (known: {', '.join(LABELS)})")
        return None
    if concept.last < concept.first:
        log.report(con, number, f"concept {span}: reversed span (ends before it starts)")
        return None
    for line_no, token in (concept.first, concept.last):
        if not 1 <= line_no <= len(lines):
            n_lines = len(lines) - (lines[-1] == [(len(text), len(text))])  # a final newline opens no line
            log.report(con, number, f"concept {span}: line {line_no} is outside the text ({n_lines} lines)")
            return None
        if token >= len(lines[line_no - 1]):
            log.report(con, number, f"concept {span}: token {token} is past the end of line {line_no} "
                                    f"({len(lines[line_no - 1])} tokens)")
            return None
    start = lines[concept.first[0] - 1][concept.first[1]][0]
    end = lines[concept.last[0] - 1][concept.last[1]][1]
    # The .con text is lower-cased and joins lines; compare without case and whitespace.
    if "".join(text[start:end].lower().split()) != "".join(concept.text.lower().split()):
        log.report(con, number, f"concept {span}: quoted text ({len(concept.text)} characters) does not match "
                                f"the tokens it points to ({end - start} characters at offset {start})")
        return None
    if end <= start:
        log.report(con, number, f"concept {span}: covers no characters (empty tokens only)")
        return None
    return Entity(ident, concept.type, ((start, end),))
