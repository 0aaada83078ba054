"""Reader for i2b2-2010 concepts (problem / test / treatment) with their assertions and relations, as released on
the n2c2 portal.

Layout: train ``concept_assertion_relation_training_data/{beth,partners}/txt/<stem>.txt`` with
``.../concept/<stem>.con``, ``.../ast/<stem>.ast`` and ``.../rel/<stem>.rel``; test ``test_data/<stem>.txt`` with
``reference_standard_for_test_data/{concepts,ast,rel}/<stem>.{con,ast,rel}``. A ``.txt`` has one sentence per line,
tokens separated by single spaces. A ``.con`` has one concept per line, ``c="chest pain" 12:3 12:4||t="problem"``;
the ``.ast`` and ``.rel`` lines refer to those concepts (syntax and checks: ``i2b2_2010_annotations.py``).

Concepts are the entities (ids ``L<line of the .con>``), the only thing the NER task needs, so the ``ast/`` and
``rel/`` folders are optional: a split whose release has none of their files is read without assertions (or
relations), and a notice says so (``Corpus.notices``, shown by ``mtclin inspect`` and in stats.json). Where a split
has them, a note without its ``.ast``/``.rel`` (or one without its note) is a problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Sequence

from mtclin.corpora.i2b2_2010_annotations import (
    ASSERTION_VALUES, RELATION_TYPES, Concept, ConceptIndex, annotation_lines, concept_entity, parse_concept,
    read_assertions, read_relations, token_offsets,
)
from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.registry import SPLITS, check_splits, derive, register
from mtclin.corpora.types import Corpus, Document, Example, sort_assertions, sort_entities, sort_relations

__all__ = ["ASSERTION_VALUES", "LABELS", "NAME", "RELATION_TYPES", "Concept", "parse_concept", "read",
           "read_document"]

NAME = "i2b2-2010"
LABELS: tuple[str, ...] = ("problem", "test", "treatment")

TRAIN_DIR = "concept_assertion_relation_training_data"
TEST_TEXT_DIR = "test_data"
TEST_GOLD_DIR = "reference_standard_for_test_data"

# Where each kind of file lies per split: the last folder names of its path ("*": any one name).
FOLDERS: dict[str, dict[str, tuple[str, ...]]] = {
    "train": {".txt": (TRAIN_DIR, "*", "txt"), ".con": (TRAIN_DIR, "*", "concept"),
              ".ast": (TRAIN_DIR, "*", "ast"), ".rel": (TRAIN_DIR, "*", "rel")},
    "test": {".txt": (TEST_TEXT_DIR,), ".con": (TEST_GOLD_DIR, "concepts"),
             ".ast": (TEST_GOLD_DIR, "ast"), ".rel": (TEST_GOLD_DIR, "rel")},
}
LAYERS = {".ast": ("assertion", "assertions"), ".rel": ("relation", "relations")}  # suffix -> (kind, what's read)


@dataclass(frozen=True)
class NoteFiles:
    """The files of one note; ``ast`` / ``rel`` None where the note is read without assertions / relations."""

    txt: Path
    con: Path
    ast: Path | None = None
    rel: Path | None = None


@register(NAME, "ner", LABELS, paper_order=7, sample="mtclin.corpora.samples.i2b2_2010:write",
          assertions=ASSERTION_VALUES, relations=RELATION_TYPES)
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits under ``root`` (the unpacked release): one Document per ``.txt`` with its
    concepts as character spans (entity ids ``L<line of the .con>``), their assertions and relations. Strict mode
    raises CorpusFormatError on the first problem; lenient mode skips the broken line (or file) and lists every
    problem."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    check_splits(NAME, splits, SPLITS)
    out: dict[str, list[Example]] = {}
    for split in splits:
        out[split] = []
        for files in _split_notes(root, split, log) or []:
            document = read_document(files.txt, files.con, root, log, ast=files.ast, rel=files.rel)
            if document is not None:
                out[split].append(document)
    return Corpus(NAME, "ner", LABELS, out, log.problems, assertion_values=ASSERTION_VALUES,
                  relation_types=RELATION_TYPES, notices=log.notices)


# the tasks over its assertions and relations, trained on its processed tables (no preprocessing of their own)
derive(f"{NAME}-assertion", "assertion", NAME, ASSERTION_VALUES, entity_types=("problem",))
derive(f"{NAME}-relations", "relation", NAME, RELATION_TYPES)


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


def _split_notes(root: Path, split: str, log: ProblemLog) -> list[NoteFiles] | None:
    """Every note of ``split`` with its annotation files; None (after a report) when the release lacks the split."""
    folders = FOLDERS[split]
    found = {suffix: _files(root, parts, suffix) for suffix, parts in folders.items()}
    if not found[".txt"] and not found[".con"]:
        where = f"{TRAIN_DIR}/{{beth,partners}}/txt/*.txt" if split == "train" else f"{TEST_TEXT_DIR}/*.txt"
        log.report(root, "", f"split {split!r}: no {NAME} files ({where}) found under {root}")
        return None
    key = _key(split, found)
    pairs = _pair_up(found[".txt"], found[".con"], key, log)
    layers = {suffix: _layer(root, split, suffix, found, pairs, key, log) for suffix in LAYERS}
    return [NoteFiles(txt, con, layers[".ast"].get(key(txt)), layers[".rel"].get(key(txt))) for txt, con in pairs]


def _key(split: str, found: dict[str, list[Path]]) -> Callable[[Path], Hashable]:
    """How the files of one note are matched across folders."""
    if split == "train":  # the source directory (beth, partners) plus the stem
        return lambda p: (p.parent.parent, p.stem)
    # Test text and gold come as separate archives that may be unpacked apart: match by stem, and by what lies
    # above test_data/ and reference_standard_for_test_data/ only where a stem occurs more than once.
    if all(len({p.stem for p in paths}) == len(paths) for paths in found.values()):
        return lambda p: p.stem
    return lambda p: (_above(p, TEST_TEXT_DIR, TEST_GOLD_DIR), p.stem)


def _layer(root: Path, split: str, suffix: str, found: dict[str, list[Path]], pairs: list[tuple[Path, Path]],
           key: Callable[[Path], Hashable], log: ProblemLog) -> dict[Hashable, Path]:
    """The ``suffix`` (.ast or .rel) file of each note, by note key. A split without any is read without that
    layer (a notice, not a problem: the NER task needs none of it); otherwise a note without its file, or a file
    without its note, is a problem."""
    kind, layer = LAYERS[suffix]
    files = found[suffix]
    if not files:
        folder = "/".join(FOLDERS[split][suffix])
        log.notice(root, f"split {split!r}: no {kind} files ({folder}/*{suffix}) found: read without {layer}")
        return {}
    by_key = {key(path): path for path in files}
    txt_keys = {key(txt) for txt in found[".txt"]}
    for path in files:
        if key(path) not in txt_keys:
            log.report(path, "", f"{kind} file without its .txt (expected one with the same name)")
    for txt, _ in pairs:
        if key(txt) not in by_key:
            log.report(txt, "", f"text file without its {suffix} {kind} file (the split's other notes have "
                                f"one); read without its {layer}")
    return by_key


def _above(path: Path, *names: str) -> Path:
    """The directory holding the first ancestor of ``path`` named one of ``names``."""
    for parent in path.parents:
        if parent.name in names:
            return parent.parent
    return path.parent


def read_document(txt: Path, con: Path, root: Path, log: ProblemLog, *, ast: Path | None = None,
                  rel: Path | None = None) -> Document | None:
    """One note, its concepts and (from ``ast`` / ``rel`` where given) their assertions and relations, as a
    Document (None when the note or its concepts are unusable)."""
    text = read_text(txt, log)
    annotations = read_text(con, log)
    if text is None or annotations is None:
        return None
    lines = token_offsets(text)
    entities = []
    for number, line in annotation_lines(annotations):
        concept = parse_concept(line)
        if concept is None:
            log.report(con, number, 'unparsable concept line (expected c="..." L:T L:T||t="...")')
            continue
        entity = concept_entity(concept, f"L{number}", LABELS, text, lines, con, number, log)
        if entity is not None:
            entities.append(entity)
    ordered = sort_entities(entities)
    concepts = ConceptIndex(text, lines, ordered, LABELS, con.name)
    assertions = read_assertions(ast, concepts, log) if ast is not None else ()
    relations = read_relations(rel, concepts, log) if rel is not None else ()
    return Document(log.relative(txt.with_suffix("")), text, ordered, sort_assertions(assertions, ordered),
                    sort_relations(relations, ordered))
