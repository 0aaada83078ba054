"""A handful of hand-made examples per task kind, written as processed tables like the DVC stage writes them.

NER (as corpus n2c2-2018), entailment (medrqe) and similarity (n2c2-2019): small enough for a tiny BERT to
memorise, so a training run can prove that heads, alignment, decoding and metrics fit together.
"""

from __future__ import annotations

import re
from pathlib import Path

from mtclin.corpora.registry import corpus_info
from mtclin.corpora.types import Corpus, Document, Entity, Pair
from mtclin.preprocess.tables import PreprocessConfig, split_table

# [entity text|Type] marks gold spans; multi-subword drugs and adjacent same-type entities included
NOTES = [
    "patient takes [aspirin|Drug] [81|Strength] [mg|Strength] [daily|Frequency] for [chest pain|Reason] .",
    "[metformin|Drug] [500|Strength] mg [po|Route] [twice daily|Frequency] .",
    "started [heparin|Drug] [iv|Route] ; stopped [warfarin|Drug] due to [bleeding|ADE] .",
    "[insulin|Drug] [tablets|Form] [tid|Frequency] since [fever|Reason] ; [ibuprofen|Drug] [morphine|Drug] given .",
    "no medication today . follow up in clinic .",
]

PAIRS_NLI = [
    ("does aspirin cause bleeding ?", "what are the side effects of aspirin ?", "true"),
    ("my mother has chest pain , what should she take ?", "how is chest pain treated ?", "true"),
    ("does aspirin cause bleeding ?", "how is diabetes treated ?", "false"),
    ("my father has a cough and fever .", "what is the dose of insulin ?", "false"),
]

PAIRS_STS = [
    ("patient has chest pain .", "patient has chest pain .", 5.0),
    ("patient has chest pain .", "the patient reports chest pain today .", 3.5),
    ("patient takes aspirin daily .", "insulin was stopped .", 0.5),
    ("fever and cough resolved .", "the fever and the cough resolved .", 4.5),
    ("blood pressure normal .", "left knee fracture .", 0.0),
]


def parse_note(note_id: str, marked: str) -> Document:
    text, entities = "", []
    pos = 0
    for m in re.finditer(r"\[([^|\]]+)\|([A-Za-z]+)\]", marked):
        text += marked[pos:m.start()]
        start = len(text)
        text += m.group(1)
        entities.append(Entity(f"T{len(entities) + 1}", m.group(2), ((start, len(text)),)))
        pos = m.end()
    text += marked[pos:]
    return Document(note_id, text, tuple(entities))


def write_tables(root: Path, examples: dict[str, list]) -> Path:
    """processed/<corpus>/{train,dev,test}.parquet with the same examples in every split."""
    for name, items in examples.items():
        info = corpus_info(name)
        corpus = Corpus(name, info.kind, info.labels, {"train": items, "dev": items, "test": items})
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        for split in corpus.splits:
            split_table(corpus, split, PreprocessConfig()).write_parquet(out / f"{split}.parquet")
    return root


def write_toy_processed(root: Path) -> Path:
    """processed/<corpus>/{train,dev,test}.parquet for n2c2-2018, medrqe and n2c2-2019; dev == test == train."""
    docs = [parse_note(f"note{i}", n) for i, n in enumerate(NOTES)]
    nli = [Pair(f"p{i}", a, b, label=y) for i, (a, b, y) in enumerate(PAIRS_NLI)]
    sts = [Pair(f"s{i}", a, b, score=y) for i, (a, b, y) in enumerate(PAIRS_STS)]
    return write_tables(root, {"n2c2-2018": docs, "medrqe": nli, "n2c2-2019": sts})


TOY_CORPORA = ("n2c2-2018", "medrqe", "n2c2-2019")
