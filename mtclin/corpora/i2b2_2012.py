"""Reader for i2b2-2012 temporal relations, EVENT annotations only (as the paper's NER task).

Layout: ``2012-07-15.original-annotation.release/*.xml`` (train) and
``2012-08-23.test-data.groundtruth/ground_truth/merged_xml/*.xml`` (test), each at any depth under the root. The
test tarball also unpacks without its ``2012-08-23.test-data.groundtruth/`` parent, so the test split is every
``ground_truth/merged_xml/*.xml``, with or without that parent. Each file is
``<ClinicalNarrativeTemporalAnnotation><TEXT><![CDATA[note]]></TEXT><TAGS><EVENT id="E0" start="18" end="27"
text="admission" modality="FACTUAL" polarity="POS" type="OCCURRENCE" />...`` plus TIMEX3, TLINK and SECTIME
(ignored). The EVENT ``type`` is our entity type.

Offsets in the real release are 1-based against the CDATA text (``start="18" end="27"`` is ``text[17:26]``).
Because converters disagree, each file's convention (1-based or 0-based) is chosen by how many EVENTs'
``text=`` it reproduces (ties go to the documented 1-based); every EVENT that still doesn't match is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora.i2b2_xml import (
    Tag, document_id, int_attr, read_i2b2_xml, read_xml_corpus, same_text, span_error, unique_ids,
)
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import SPLITS, register
from mtclin.corpora.types import Corpus, Document, Entity, sort_entities

NAME = "i2b2-2012"
LABELS: tuple[str, ...] = ("CLINICAL_DEPT", "EVIDENTIAL", "OCCURRENCE", "PROBLEM", "TEST", "TREATMENT")

SPLIT_DIRS: dict[str, tuple[tuple[str, ...], ...]] = {
    "train": (("2012-07-15.original-annotation.release",),),
    # the official parent 2012-08-23.test-data.groundtruth/ is often missing: match the folders below it only
    "test": (("ground_truth", "merged_xml"),),
}


@register(NAME, "ner", LABELS, paper_order=6, sample="mtclin.corpora.samples.i2b2_2012:write")
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits under ``root`` (the unpacked release): one Document per XML file with its
    EVENT entities, as 0-based half-open spans. Strict mode raises CorpusFormatError on the first problem;
    lenient mode skips the broken EVENT (or file) and lists every problem in ``Corpus.problems``."""
    return read_xml_corpus(NAME, LABELS, root, splits, lenient, SPLIT_DIRS, read_document)


def read_document(path: Path, root: Path, log: ProblemLog) -> Document | None:
    """One annotation file as a Document (None when the file is unusable)."""
    parsed = read_i2b2_xml(path, "ClinicalNarrativeTemporalAnnotation", log)
    if parsed is None:
        return None
    events = unique_ids([tag for tag in parsed.tags if tag.name == "EVENT"], path, log)
    shift = offset_shift(parsed.text, events)
    entities = [e for tag in events if (e := _event(tag, parsed.text, shift, path, log)) is not None]
    return Document(document_id(path, root), parsed.text, sort_entities(entities))


def offset_shift(text: str, events: Sequence[Tag]) -> int:
    """What to subtract from a file's offsets to make them 0-based: 1 (the release's 1-based convention)
    unless 0-based offsets reproduce strictly more EVENTs' ``text=``."""
    def matches(shift: int) -> int:
        count = 0
        for tag in events:
            start, end, expected = int_attr(tag, "start"), int_attr(tag, "end"), tag.attrs.get("text")
            if start is not None and end is not None and expected is not None and 0 <= start - shift < end - shift:
                count += same_text(text[start - shift:end - shift], expected)
        return count

    return 0 if matches(0) > matches(1) else 1


def _event(tag: Tag, text: str, shift: int, path: Path, log: ProblemLog) -> Entity | None:
    """The entity of one EVENT, or None (after a report) when it is unusable."""
    ident = tag.attrs.get("id", "")
    start, end, label = int_attr(tag, "start"), int_attr(tag, "end"), tag.attrs.get("type", "")
    where = f"EVENT {ident or '(no id)'}"
    if not ident or start is None or end is None:
        log.report(path, tag.line, f"{where}: needs id and integer start/end attributes")
        return None
    if label not in LABELS:
        log.report(path, tag.line, f"{where}: unknown type {label!r} (known: {', '.join(LABELS)})")
        return None
    start, end = start - shift, end - shift
    error = span_error(text, start, end, tag.attrs.get("text"))
    if error is not None:
        base = "1-based" if shift else "0-based"
        log.report(path, f"line {tag.line} (offset {start})", f"{where}: {error} (file read as {base})")
        return None
    return Entity(ident, label, ((start, end),))
