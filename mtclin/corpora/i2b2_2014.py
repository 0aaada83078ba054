"""Reader for i2b2-2014 de-identification (PHI), as released on the n2c2 portal.

Layout: ``training-PHI-Gold-Set1/*.xml`` and ``training-PHI-Gold-Set2/*.xml`` (train),
``testing-PHI-Gold-fixed/*.xml`` (test), files named ``NNN-NN.xml`` (patient-record). Each file is
``<deIdi2b2><TEXT><![CDATA[note]]></TEXT><TAGS><DATE id="P0" start="16" end="26" text="2067-05-03"
TYPE="DATE" comment=""/>...</TAGS></deIdi2b2>``: the tag name is the PHI category, ``TYPE`` its subtype, which
is our entity type (as in the paper); offsets are 0-based, half-open, into the CDATA text.

Records re-saved by XML tools (seen in real copies) read the same: no CDATA (the text XML-escaped instead),
attributes in another order, an ``encoding='utf8'`` declaration, gaps in the ``P<n>`` ids (ids are kept as they
are; only repeated ids are a problem). See ``i2b2_xml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.i2b2_xml import (
    Tag, document_id, int_attr, read_i2b2_xml, read_xml_corpus, span_error, unique_ids,
)
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import SPLITS, register
from mtclin.corpora.types import Corpus, Document, Entity, sort_entities

NAME = "i2b2-2014"

# PHI category (the tag name) -> its subtypes (TYPE), per the 2014 annotation guidelines.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "NAME": ("PATIENT", "DOCTOR", "USERNAME"),
    "PROFESSION": ("PROFESSION",),
    "LOCATION": ("ROOM", "DEPARTMENT", "HOSPITAL", "ORGANIZATION", "STREET", "CITY", "STATE", "COUNTRY", "ZIP",
                 "LOCATION-OTHER"),
    "AGE": ("AGE",),
    "DATE": ("DATE",),
    "CONTACT": ("PHONE", "FAX", "EMAIL", "URL", "IPADDR"),
    "ID": ("SSN", "MEDICALRECORD", "HEALTHPLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "BIOID", "IDNUM"),
}
CATEGORY_OF: dict[str, str] = {sub: cat for cat, subs in CATEGORIES.items() for sub in subs}
LABELS: tuple[str, ...] = tuple(sorted(CATEGORY_OF))

SPLIT_DIRS: dict[str, tuple[tuple[str, ...], ...]] = {
    "train": (("training-PHI-Gold-Set1",), ("training-PHI-Gold-Set2",)),
    "test": (("testing-PHI-Gold-fixed",),),
}


@register(NAME, "ner", LABELS, paper_order=5, sample="mtclin.corpora.samples.i2b2_2014:write")
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits under ``root`` (the unpacked release): one Document per XML file with its PHI
    entities typed by subtype. Strict mode raises CorpusFormatError on the first problem; lenient mode skips
    the broken tag (or file) and lists every problem in ``Corpus.problems``."""
    return read_xml_corpus(NAME, LABELS, root, splits, lenient, SPLIT_DIRS, read_document)


def read_document(path: Path, root: Path, log: ProblemLog) -> Document | None:
    """One ``deIdi2b2`` file as a Document (None when the file is unusable)."""
    parsed = read_i2b2_xml(path, "deIdi2b2", log)
    if parsed is None:
        return None
    tags = unique_ids(parsed.tags, path, log)
    entities = [e for tag in tags if (e := _phi(tag, parsed.text, path, log)) is not None]
    return Document(document_id(path, root), parsed.text, sort_entities(entities))


def _phi(tag: Tag, text: str, path: Path, log: ProblemLog) -> Entity | None:
    """The entity of one PHI tag, or None (after a report) when the tag is unusable."""
    ident = tag.attrs.get("id", "")
    start, end, label = int_attr(tag, "start"), int_attr(tag, "end"), tag.attrs.get("TYPE", "")
    where = f"<{tag.name}> {ident or '(no id)'}"
    if not ident or start is None or end is None:
        log.report(path, tag.line, f"{where}: needs id and integer start/end attributes")
        return None
    if label not in CATEGORY_OF:
        log.report(path, tag.line, f"{where}: unknown TYPE {label!r} (known: {', '.join(LABELS)})")
        return None
    error = span_error(text, start, end, tag.attrs.get("text"))
    if error is not None:
        log.report(path, f"line {tag.line} (offset {start})", f"{where}: {error}")
        return None
    return Entity(ident, label, ((start, end),))
