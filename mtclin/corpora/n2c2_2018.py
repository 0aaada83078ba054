"""Reader for n2c2 2018 track 2 (medications and adverse drug events): BRAT standoff, 9 entity types.

Release layout, found at any depth under the root: test gold ``gold-standard-test-data/test/*.txt,*.ann``; train
``training_20180910/*.txt,*.ann``. The training folder turns up in other shapes in real copies, so train is:

- the official ``training_20180910/`` folder; when it is nested (``training_20180910/training_20180910/``) the
  innermost one holding BRAT files;
- otherwise, when BRAT ``.txt``/``.ann`` pairs sit in exactly one folder outside the test folder (a renamed copy
  such as ``track2-training_data_2/``), that folder;
- otherwise (pairs in several folders: which one is train is a guess) a problem naming the folders found, and
  no train documents.

Archive debris (``__MACOSX/``, ``._*`` resource forks) is ignored. Relation lines (``R22\\tForm-Drug Arg1:T41
Arg2:T40``: Arg1 the attribute, Arg2 the Drug, possibly sentences apart) become the documents' relations; their
type must be one of :data:`RELATION_TYPES`, their arguments kept entities of the types the type names (a Form and
a Drug for ``Form-Drug``; see ``brat_relations.py``). Discontinuous entities
(``T7\\tReason 100 110;115 120``) are kept with all their fragments; their text field may be the fragments joined
by a space, concatenated (touching fragments) or the covering text (see ``brat.py``). Spans may cross line breaks
(BRAT writes the newline as a space in the annotation's text), so span texts are compared with whitespace
normalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.brat import is_release_file, read_documents
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import SPLITS, check_splits, derive, register
from mtclin.corpora.types import Corpus, Document

NAME = "n2c2-2018"
LABELS = ("ADE", "Dosage", "Drug", "Duration", "Form", "Frequency", "Reason", "Route", "Strength")
# Every relation links one attribute (Arg1) to the Drug it is about (Arg2): "<attribute>-Drug".
ATTRIBUTES = ("Strength", "Dosage", "Duration", "Frequency", "Form", "Route", "Reason", "ADE")
RELATION_ARGUMENTS: dict[str, tuple[str, str]] = {f"{attribute}-Drug": (attribute, "Drug")
                                                  for attribute in ATTRIBUTES}
RELATION_TYPES: tuple[str, ...] = tuple(RELATION_ARGUMENTS)
# Our split -> the folder path (its last components) holding its files in the official release.
SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {
    "train": ("training_20180910",),
    "test": ("gold-standard-test-data", "test"),
}


def _brat_files(root: Path) -> dict[Path, list[Path]]:
    """Every ``.txt``/``.ann`` release file under ``root``, by folder."""
    folders: dict[Path, list[Path]] = {}
    for suffix in ("*.txt", "*.ann"):
        for path in root.rglob(suffix):
            if is_release_file(path) and path.is_file():
                folders.setdefault(path.parent, []).append(path)
    return folders


def _is_official(folder: Path, split: str) -> bool:
    parts = SPLIT_FOLDERS[split]
    return folder.parts[-len(parts):] == parts


def _has_pairs(files: list[Path]) -> bool:
    notes = {path.stem for path in files if path.suffix == ".txt"}
    return any(path.stem in notes for path in files if path.suffix == ".ann")


def _train_folders(root: Path, folders: dict[Path, list[Path]], log: ProblemLog) -> list[Path]:
    """The folder holding the train split under the rule of the module docstring ([] or [folder]); [] after
    reporting an ambiguous layout, or when there is none (the caller reports that)."""
    official_name = SPLIT_FOLDERS["train"][0]
    official = [folder for folder in folders if _is_official(folder, "train")]
    # nested copies: the innermost official folder holding files wins over the ones around it
    innermost = [folder for folder in official if not any(folder in other.parents for other in official)]
    if len(innermost) > 1:
        log.report(root, "", f"split 'train': {len(innermost)} {official_name}/ folders hold BRAT files "
                             f"({_names(innermost, log)}); keep one copy; no train documents read")
        return []
    if innermost:
        return innermost
    tests = [folder for folder in folders if _is_official(folder, "test")]
    others = [folder for folder, files in folders.items()
              if _has_pairs(files) and not any(test == folder or test in folder.parents for test in tests)]
    if len(others) > 1:
        log.report(root, "", f"split 'train': no {official_name}/ folder, and BRAT .txt/.ann pairs are in "
                             f"{len(others)} folders outside the test folder ({_names(others, log)}), so which "
                             f"one is train is unknown; expected the training notes in one folder named "
                             f"{official_name}/ (the official name); no train documents read")
        return []
    return others


def _names(folders: list[Path], log: ProblemLog) -> str:
    return ", ".join(sorted(f"{log.relative(folder)}/" for folder in folders))


def split_files(root: Path, split: str, log: ProblemLog) -> list[Path]:
    """The ``.txt``/``.ann`` files of ``split`` (directly inside its folder, see the module docstring)."""
    folders = _brat_files(root)
    if split == "train":
        chosen = _train_folders(root, folders, log)
    else:
        chosen = [folder for folder in folders if _is_official(folder, split)]
    return sorted(path for folder in chosen for path in folders[folder])


@register(NAME, "ner", LABELS, paper_order=4, sample="mtclin.corpora.samples.n2c2_2018:write",
          relations=RELATION_TYPES)
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the n2c2-2018 track 2 release unpacked under ``root``: documents with every gold entity and relation
    per requested split. Raises CorpusFormatError on the first problem unless ``lenient``."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    documents: dict[str, list[Document]] = {}
    check_splits(NAME, splits, tuple(SPLIT_FOLDERS))
    for split in splits:
        problems_before = len(log.problems)
        files = split_files(root, split, log)
        if not files and len(log.problems) == problems_before:
            log.report(root, "", f"split {split!r}: no BRAT .txt/.ann files found under {root} (expected a "
                                 f"{'/'.join(SPLIT_FOLDERS[split])}/ folder)")
        documents[split] = read_documents(files, LABELS, log, RELATION_ARGUMENTS)
    return Corpus(NAME, "ner", LABELS, documents, log.problems, relation_types=RELATION_TYPES, notices=log.notices)


# the drug-attribute relation task (track 2 "relations"), trained on its processed tables
derive(f"{NAME}-relations", "relation", NAME, RELATION_TYPES)
