"""A handful of notes with assertions and relations, for the assertion and relation heads' tests.

Marked as ``[words|type]`` or ``[words|type|assertion]``; relations are listed per note as ``(type, i, j)`` with
1-based entity numbers in marking order (arg1 first). Written as processed tables (corpora i2b2-2010 and
n2c2-2018) exactly as the DVC stage writes them, so the derived tasks read them like the real ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from mtclin.corpora.types import Assertion, Document, Entity, Relation, sort_assertions, sort_entities, sort_relations
from mtclin.train.config import TrainConfig

# the source NER tasks and every task derived from them
LINKED = ("i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018", "n2c2-2018-relations")

I2B2_NOTES = [
    ("patient denies [chest pain|problem|absent] ; has [fever|problem|present] .", []),
    ("[aspirin|treatment] given for [headache|problem|present] .", [("TrAP", 1, 2)]),
    ("mother has [diabetes|problem|associated_with_someone_else] .", []),
    ("possible [pneumonia|problem|possible] ; [ct scan|test] showed [mass|problem|present] .", [("TeRP", 2, 3)]),
    ("return if [fever|problem|hypothetical] ; stopped [heparin|treatment] due to [bleeding|problem|present] .",
     [("TrCP", 2, 3)]),
    ("[rash|problem|conditional] when taking [ibuprofen|treatment] .", [("TrCP", 2, 1)]),
]

N2C2_NOTES = [
    ("patient takes [aspirin|Drug] [81 mg|Strength] [daily|Frequency] for [chest pain|Reason] .",
     [("Strength-Drug", 2, 1), ("Frequency-Drug", 3, 1), ("Reason-Drug", 4, 1)]),
    ("[metformin|Drug] [500 mg|Strength] [po|Route] [twice daily|Frequency] .",
     [("Strength-Drug", 2, 1), ("Route-Drug", 3, 1), ("Frequency-Drug", 4, 1)]),
    ("started [heparin|Drug] [iv|Route] ; stopped [warfarin|Drug] due to [bleeding|ADE] .",
     [("Route-Drug", 2, 1), ("ADE-Drug", 4, 3)]),
    ("[insulin|Drug] [tablets|Form] [tid|Frequency] ; [ibuprofen|Drug] [daily|Frequency] .",
     [("Form-Drug", 2, 1), ("Frequency-Drug", 3, 1), ("Frequency-Drug", 5, 4)]),
    ("no medication today .", []),
]

_MARK = re.compile(r"\[([^|\]]+)\|([A-Za-z]+)(?:\|([a-z_]+))?\]")


def parse_linked(note_id: str, marked: str, relations: list[tuple[str, int, int]]) -> Document:
    text, entities, assertions = "", [], []
    pos = 0
    for m in _MARK.finditer(marked):
        text += marked[pos:m.start()]
        start = len(text)
        text += m.group(1)
        entity = Entity(f"T{len(entities) + 1}", m.group(2), ((start, len(text)),))
        entities.append(entity)
        if m.group(3):
            assertions.append(Assertion(entity.id, m.group(3)))
        pos = m.end()
    text += marked[pos:]
    rels = [Relation(f"R{k + 1}", t, f"T{i}", f"T{j}") for k, (t, i, j) in enumerate(relations)]
    ordered = sort_entities(entities)
    return Document(note_id, text, ordered, sort_assertions(assertions, ordered), sort_relations(rels, ordered))


def i2b2_docs() -> list[Document]:
    return [parse_linked(f"i2b2-{i}", note, rels) for i, (note, rels) in enumerate(I2B2_NOTES)]


def n2c2_docs() -> list[Document]:
    return [parse_linked(f"n2c2-{i}", note, rels) for i, (note, rels) in enumerate(N2C2_NOTES)]


def write_linked_processed(root: Path) -> Path:
    """processed/{i2b2-2010,n2c2-2018}/{train,dev,test}.parquet from the notes (the same in every split)."""
    from tests.toy_tasks import write_tables

    return write_tables(root, {"i2b2-2010": i2b2_docs(), "n2c2-2018": n2c2_docs()})


def link_config(processed: Path, tiny, out: Path, **overrides) -> TrainConfig:
    """What memorises the notes: 30 epochs at a high rate, no dropout, no early stopping (the linked_trained
    fixture of tests/conftest.py trains it once per session)."""
    values = dict(corpora=LINKED, processed_dir=str(processed), output_dir=str(out), encoder=str(tiny[1]),
                  epochs=30, learning_rate=3e-3, ner_batch_size=5, dropout=0.0, seed=0, progress=False, patience=0,
                  device="cpu")
    return TrainConfig(**(values | overrides))
