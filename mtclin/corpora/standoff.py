"""The generic ``brat`` format: a declared corpus of BRAT standoff files, one folder per split.

Each split is a folder under ``data/<name>/`` (``splits:`` in corpora.yaml); every ``X.txt``/``X.ann`` pair at any
depth below it is a document, read exactly as the built-in BRAT corpora are (:mod:`mtclin.corpora.brat`): ``T``
lines (discontinuous too, in every text form real releases use) become entities; ``R``, ``E``, ``A``/``M``, ``N``,
``#`` and ``*`` lines are accepted and ignored. Archive debris (``__MACOSX/``, ``._*``) is ignored. Document ids are
paths relative to ``data/<name>/`` without extension, sorted.

Labels: the declared ``labels`` (an entity of another type is a problem), or, without them, the types found in
train, sorted (a dev or test entity of a type train lacks is then a problem: the head could never predict it).
Reading dev or test alone accepts any well-formed type name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.brat import LABEL, is_release_file, read_documents
from mtclin.corpora.declared import FORMATS, Declaration, Format, OptionError
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.types import Corpus, Document


def split_files(root: Path, declaration: Declaration, split: str, log: ProblemLog) -> list[Path]:
    """The ``.txt``/``.ann`` files of ``split``: everything below its declared folder (reported when absent)."""
    relative = declaration.splits[split]
    folder = root / relative
    where = f"(corpora.yaml: corpora.{declaration.name}.splits.{split})"
    if not folder.is_dir():
        what = "is a file, not a folder of .txt/.ann files" if folder.exists() else "does not exist"
        log.report(root, "", f"split {split!r}: {relative}/ {what} under {root} {where}")
        return []
    files = sorted(path for suffix in ("*.txt", "*.ann") for path in folder.rglob(suffix)
                   if path.is_file() and is_release_file(path))
    if not files:
        log.report(root, "", f"split {split!r}: no BRAT .txt/.ann files found under {relative}/ {where}")
    return files


def read(declaration: Declaration, root: Path, *, splits: Sequence[str], lenient: bool = False) -> Corpus:
    """The requested splits of a declared BRAT corpus under ``root``; train is read first, since without declared
    labels its types are the corpus's labels. Raises CorpusFormatError on the first problem unless ``lenient``."""
    log = ProblemLog(root, lenient)
    labels: tuple[str, ...] | None = declaration.labels or None
    documents: dict[str, list[Document]] = {}
    for split in sorted(splits, key=lambda s: s != "train"):
        documents[split] = read_documents(split_files(root, declaration, split, log), labels, log)
        if split == "train" and labels is None:
            labels = tuple(sorted({e.type for d in documents[split] for e in d.entities}))
    if labels is None:  # dev or test read alone
        labels = tuple(sorted({e.type for docs in documents.values() for d in docs for e in d.entities}))
    return Corpus(declaration.name, "ner", labels, {split: documents[split] for split in splits}, log.problems)


def check(declaration: Declaration) -> None:
    """The brat-specific checks of a declaration: labels are BRAT type names; no pair options."""
    for key, given in (("fields", bool(declaration.fields)), ("header", declaration.header)):
        if given:
            raise OptionError(key, "only the pair formats (jsonl-pairs, tsv-pairs) have this key")
    for label in declaration.labels:
        if not LABEL.fullmatch(label):
            raise OptionError("labels", f"{label!r} is not a BRAT type name (a letter or '_', then letters, "
                                        "digits, '_' or '-')")


FORMATS.add("brat", Format("brat", ("ner",), read, check))
