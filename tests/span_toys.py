"""A handful of quaero-like notes with nested and overlapping entities, for the span head's tests.

Marked as ``[TYPE words]``, nestable: ``[DISO cancer du [ANAT poumon]]`` is a DISO over the whole phrase and an
ANAT inside it. Written as processed tables (corpus quaero-2014) like the DVC stage writes them, so the
flattening to BIO happens as in production while the span head gets every entity.
"""

from __future__ import annotations

import re
from pathlib import Path

from mtclin.corpora.types import Document, Entity

NESTED_NOTES = [
    "[DISO cancer du [ANAT poumon]] traite par [CHEM [CHEM cisplatine] et [CHEM etoposide]] .",
    "[PROC biopsie [ANAT hepatique]] normale ; [DISO douleur [ANAT abdominale]] depuis hier .",
    "[LIVB patient] de 60 ans avec [DISO [DISO diabete] de type 2] et [DISO hypertension] .",
    "[DISO infection [ANAT urinaire]] sous [CHEM amoxicilline] per os .",
    "aucun traitement aujourd hui ; revoir en consultation .",
]

_MARK = re.compile(r"\[([A-Z]+) |\]")


def parse_nested(note_id: str, marked: str) -> Document:
    """A document from a marked note; entities in order of their opening bracket."""
    text, stack, spans = "", [], []
    pos = 0
    for m in _MARK.finditer(marked):
        text += marked[pos:m.start()]
        pos = m.end()
        if m.group(1):
            stack.append((m.group(1), len(text), len(spans)))
            spans.append(None)
        else:
            typ, start, slot = stack.pop()
            spans[slot] = (start, len(text), typ)
    text += marked[pos:]
    if stack:
        raise ValueError(f"{note_id}: unclosed bracket")
    entities = tuple(Entity(f"T{i + 1}", typ, ((s, e),)) for i, (s, e, typ) in enumerate(spans))
    return Document(note_id, text, entities)


def nested_docs() -> list[Document]:
    return [parse_nested(f"quaero{i}", note) for i, note in enumerate(NESTED_NOTES)]


def write_nested_processed(root: Path) -> Path:
    """processed/quaero-2014/{train,dev,test}.parquet from NESTED_NOTES (the same notes in every split)."""
    from tests.toy_tasks import write_tables

    return write_tables(root, {"quaero-2014": nested_docs()})
