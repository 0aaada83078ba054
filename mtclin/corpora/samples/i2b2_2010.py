"""Sample i2b2-2010 corpus in the official layout: pre-tokenised ``.txt`` notes (one sentence per line,
tokens joined by single spaces) with ``.con`` concepts, plus ``.ast`` assertions and ``.rel`` relations as the
release ships them. Quirks reproduced: concepts that run across a line break, ``.con`` lines in no particular
order, concept text lower-cased.
"""

from __future__ import annotations

import random
from pathlib import Path

from mtclin.corpora.i2b2_xml import sort_entities
from mtclin.corpora.samples.clinical_text import (
    PROBLEMS, TESTS, TREATMENTS, NoteBuilder, Span, distinct_numbers, stay,
)
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import Document, Entity, Pair

NAME = "i2b2-2010"
TRAIN = "concept_assertion_relation_training_data"

# Sentence templates: slots p (problem), t (test), tr (treatment); "rel" the i2b2 relation between the first
# two slots where the sentence states one, "absent" when the problem is negated.
SENTENCES: tuple[tuple[str, str | None], ...] = (
    ("The patient presented with {p} and {p2} .", None),
    ("{Pro} complained of {p} for two days .", None),
    ("On admission , {t} showed {p} .", "TeRP"),
    ("We obtained {t} , which was unremarkable .", None),
    ("Results of {t} were within normal limits .", None),
    ("{Pro} was started on {tr} for {p} .", "TrAP"),
    ("The patient was treated with {tr} and {tr2} .", None),
    ("The patient denies {p} .", "absent"),
    ("There was no evidence of {p} on {t} .", "absent"),
    ("{Pro} will continue {tr} at home .", None),
)
HEADINGS = ("HISTORY OF PRESENT ILLNESS :", "HOSPITAL COURSE :", "DISCHARGE MEDICATIONS :")


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the sample corpus under ``root`` (created if needed) and return the gold documents per split,
    exactly as ``mtclin.corpora.i2b2_2010.read`` returns them."""
    rng = rng_for(NAME, seed)
    root = Path(root)
    n_train, n_test = max(2, round(30 * scale)), max(1, round(10 * scale))
    beth = [f"record-{n}" for n in distinct_numbers(rng, n_train // 2, 1, 180)]
    partners = [f"{n:09d}_{rng.choice(('DH', 'WGH', 'RWH'))}"
                for n in distinct_numbers(rng, n_train - len(beth), 10**7, 10**9 - 1)]
    train = [(f"{TRAIN}/beth", stem) for stem in beth] + [(f"{TRAIN}/partners", stem) for stem in partners]
    test = [("", f"{n:04d}") for n in distinct_numbers(rng, n_test, 1, 477)]
    gold: dict[str, list[Document | Pair]] = {"train": [], "test": []}
    for index, (source, stem) in enumerate(train + test):
        text, spans, assertions, relations = _note(rng, canary=index % 4 == 1)
        con, ast, rel = _annotation_files(rng, text, spans, assertions, relations)
        if source:  # train: <source>/{txt,concept,ast,rel}/
            split, txt_path = "train", root / source / "txt" / f"{stem}.txt"
            gold_dirs = [root / source / sub for sub in ("concept", "ast", "rel")]
        else:  # test: test_data/ and reference_standard_for_test_data/{concepts,ast,rel}/
            split, txt_path = "test", root / "test_data" / f"{stem}.txt"
            gold_dirs = [root / "reference_standard_for_test_data" / sub for sub in ("concepts", "ast", "rel")]
        _put(txt_path, text)
        for directory, suffix, lines in zip(gold_dirs, (".con", ".ast", ".rel"), ([c for c, _ in con], ast, rel)):
            _put(directory / f"{stem}{suffix}", "".join(line + "\n" for line in lines))
        entities = [Entity(f"L{number}", span.label, ((span.start, span.end),))
                    for number, (_, span) in enumerate(con, start=1)]
        doc_id = txt_path.relative_to(root).with_suffix("").as_posix()
        gold[split].append(Document(doc_id, text, sort_entities(entities)))
    # The reader orders files by relative path (with extension).
    return {split: sorted(docs, key=lambda d: d.id + ".txt") for split, docs in gold.items()}


def _put(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8"))


def _note(rng: random.Random, canary: bool) -> tuple[str, list[Span], set[Span], list[tuple[Span, str, Span]]]:
    """One note: text, concept spans, the negated problems and the stated relations."""
    note = NoteBuilder()
    he = rng.random() < 0.5
    admitted, discharged = stay(rng)
    for line in ("Admission Date :", admitted, "Discharge Date :", discharged):
        note.add(line + "\n")
    note.add(rng.choice(HEADINGS) + "\n")
    note.add(f"The patient is a {rng.randint(25, 90)} year old {'man' if he else 'woman'} with a history of ")
    note.mark(rng.choice(PROBLEMS), "problem")
    note.add(" .\n")
    absent: set[Span] = set()
    relations: list[tuple[Span, str, Span]] = []
    n_lines = rng.randint(3, 12)
    multiline_at = rng.randrange(n_lines) if rng.random() < 0.6 else -1
    for i in range(n_lines):
        if i == multiline_at:
            _multiline(rng, note)
            continue
        template, kind = rng.choice(SENTENCES)
        slots = {"Pro": ("He" if he else "She", None), "p": (rng.choice(PROBLEMS), "problem"),
                 "t": (rng.choice(TESTS), "test"), "tr": (rng.choice(TREATMENTS), "treatment")}
        slots["p2"] = (rng.choice([p for p in PROBLEMS if p != slots["p"][0]]), "problem")
        slots["tr2"] = (rng.choice([t for t in TREATMENTS if t != slots["tr"][0]]), "treatment")
        new = note.fill(template + "\n", slots)
        if kind == "absent":
            absent.add(new[0])
        elif kind is not None:
            relations.append((new[0], kind, new[1]))
    if canary:
        note.add(f"Dictated by : {CANARY} , M.D.\n")
    return note.text, note.spans, absent, relations


def _multiline(rng: random.Random, note: NoteBuilder) -> None:
    """A sentence broken over two lines inside a multi-word concept (the concept runs across lines)."""
    problem = rng.choice([p for p in PROBLEMS if " " in p])
    words = problem.split(" ")
    cut = rng.randint(1, len(words) - 1)
    note.add("Past medical history is significant for ")
    note.mark(" ".join(words[:cut]) + "\n" + " ".join(words[cut:]), "problem")
    note.add(" , status post ")
    note.mark(rng.choice(TREATMENTS), "treatment")
    note.add(" .\n")


def _position(text: str, offset: int) -> str:
    """``line:token`` of the token holding character ``offset`` (lines 1-based, tokens 0-based)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return f"{text.count(chr(10), 0, offset) + 1}:{text.count(' ', line_start, offset)}"


def _concept(text: str, span: Span) -> str:
    quoted = text[span.start:span.end].lower().replace("\n", " ")
    return f'c="{quoted}" {_position(text, span.start)} {_position(text, span.end - 1)}'


def _annotation_files(rng: random.Random, text: str, spans: list[Span], absent: set[Span],
                      relations: list[tuple[Span, str, Span]]) -> tuple[list[tuple[str, Span]], list[str], list[str]]:
    """The ``.con`` lines (shuffled, as the release's are not in text order, each with its span), and the
    ``.ast`` and ``.rel`` lines."""
    con = [(f'{_concept(text, s)}||t="{s.label}"', s) for s in spans]
    rng.shuffle(con)
    ast = [f'{_concept(text, s)}||t="problem"||a="{"absent" if s in absent else "present"}"'
           for s in spans if s.label == "problem"]
    rel = [f'{_concept(text, a)}||r="{kind}"||{_concept(text, b)}' for a, kind, b in relations]
    return con, ast, rel
