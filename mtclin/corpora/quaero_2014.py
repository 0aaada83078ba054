"""Reader for the QUAERO French Medical Corpus 2014 (Névéol et al.): BRAT standoff, 10 UMLS semantic groups.

Release layout, found at any depth under the root: ``QUAERO_FrenchMed/corpus/{train,dev,test}/{EMEA,MEDLINE}/
*.txt,*.ann``. MEDLINE files are article titles (one per file); EMEA files are drug-leaflet sub-documents
(``118_2.txt``), some beginning with blank lines (offsets count them: text is never stripped).

Splits ``train``, ``dev`` and ``test`` are the official folders. ``dev`` is optional: a copy with train and dev
merged (as the paper's code made them, and as the public copy here is) has no ``dev/`` folder, and then ``dev`` comes
back empty without a problem (preprocessing carves a dev split out of train). Documents are sorted by id (their
path relative to the root).

Every ``T`` line is returned: nested entities, crossing spans, one span with two types and discontinuous
entities included (flattening for BIO tagging happens later). A few real EMEA files (train ``EMEA/118_2`` and
``EMEA/118_3``) have offsets one character off their text: each such entity is reported as a problem (strict
mode raises) and, in lenient mode, KEPT with its offsets as given, since they are valid positions in the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.brat import is_release_file, read_documents
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import DEV, check_splits, register
from mtclin.corpora.types import Corpus, Document

NAME = "quaero-2014"
LABELS = ("ANAT", "CHEM", "DEVI", "DISO", "GEOG", "LIVB", "OBJC", "PHEN", "PHYS", "PROC")
# Our split -> the official release folder holding it.
OFFICIAL_SPLITS: dict[str, str] = {"train": "train", DEV: "dev", "test": "test"}
SOURCES = ("EMEA", "MEDLINE")


def split_files(root: Path, split: str) -> list[Path]:
    """The ``.txt``/``.ann`` files of our ``split``: those in ``QUAERO_FrenchMed/corpus/<official>/<source>/``,
    wherever that tree sits under ``root``."""
    wanted = OFFICIAL_SPLITS[split]
    return sorted(
        path
        for suffix in ("*.txt", "*.ann")
        for path in root.rglob(suffix)
        if is_release_file(path)
        and path.parent.name in SOURCES
        and path.parent.parent.name == wanted
        and path.parent.parent.parent.name == "corpus"
    )


@register(NAME, "ner", LABELS, splits=tuple(OFFICIAL_SPLITS), paper_order=8, language="fr",
          sample="mtclin.corpora.samples.quaero_2014:write")
def read(root: Path, *, splits: Sequence[str] = tuple(OFFICIAL_SPLITS), lenient: bool = False) -> Corpus:
    """Read the quaero release unpacked under ``root``: documents with every gold entity per requested split.
    Raises CorpusFormatError on the first problem unless ``lenient`` (then all are in ``Corpus.problems``)."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    documents: dict[str, list[Document]] = {}
    check_splits(NAME, splits, tuple(OFFICIAL_SPLITS))
    for split in splits:
        files = split_files(root, split)
        if not files and split != DEV:
            log.report(root, "", f"split {split!r}: no BRAT .txt/.ann files found under {root} (expected "
                                 f"QUAERO_FrenchMed/corpus/{OFFICIAL_SPLITS[split]}/{{EMEA,MEDLINE}}/)")
        documents[split] = read_documents(files, LABELS, log)
    return Corpus(NAME, "ner", LABELS, dict(documents), log.problems)
