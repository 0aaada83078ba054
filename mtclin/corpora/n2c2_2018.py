"""Reader for n2c2 2018 track 2 (medications and adverse drug events): BRAT standoff, 9 entity types.

Release layout, found at any depth under the root: train ``training_20180910/*.txt,*.ann``; test gold
``gold-standard-test-data/test/*.txt,*.ann``. Relation lines (``R22\\tForm-Drug Arg1:T41 Arg2:T40``) are not used
by the NER task: they are checked for shape and ignored. Discontinuous entities (``T7\\tReason 100 110;115 120``)
are kept with all their fragments. Spans may cross line breaks (BRAT writes the newline as a space in the
annotation's text), so span texts are compared with whitespace normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.brat import is_release_file, read_documents
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import SPLITS, register
from mtclin.corpora.types import Corpus, Document

NAME = "n2c2-2018"
LABELS = ("ADE", "Dosage", "Drug", "Duration", "Form", "Frequency", "Reason", "Route", "Strength")
# Our split -> the folder path (its last components) holding its files in the official release.
SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {
    "train": ("training_20180910",),
    "test": ("gold-standard-test-data", "test"),
}


def split_files(root: Path, split: str) -> list[Path]:
    """The ``.txt``/``.ann`` files directly inside the official folder of ``split``, wherever it sits."""
    folder = SPLIT_FOLDERS[split]
    return sorted(
        path
        for suffix in ("*.txt", "*.ann")
        for path in root.rglob(suffix)
        if is_release_file(path) and path.parent.parts[-len(folder):] == folder
    )


@register(NAME, "ner", LABELS)
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the n2c2-2018 track 2 release unpacked under ``root``: documents with every gold entity per
    requested split. Raises CorpusFormatError on the first problem unless ``lenient``."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    documents: dict[str, list[Document]] = {}
    for split in splits:
        if split not in SPLIT_FOLDERS:
            raise ValueError(f"unknown split {split!r} for {NAME}; known: {', '.join(SPLIT_FOLDERS)}")
        files = split_files(root, split)
        if not files:
            log.report(root, "", f"split {split!r}: no BRAT .txt/.ann files found under {root} (expected a "
                                 f"{'/'.join(SPLIT_FOLDERS[split])}/ folder)")
        documents[split] = read_documents(files, LABELS, log)
    return Corpus(NAME, "ner", LABELS, documents, log.problems)
