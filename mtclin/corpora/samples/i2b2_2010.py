"""Sample i2b2-2010 corpus in the official layout: pre-tokenised ``.txt`` notes (one sentence per line,
tokens joined by single spaces) with ``.con`` concepts, plus ``.ast`` assertions and ``.rel`` relations as the
release ships them. Quirks reproduced: concepts that run across a line break, ``.con`` and ``.rel`` lines in no
particular order, concept text lower-cased.

Learnable regularities: each sentence template states one assertion value for all its problems, with the cue a
clinician reads it by ("denies", "no" before an absent problem; "possible", "?" for a possible one; "when", "with
exertion" for conditional; "if" for hypothetical; a relative's for associated_with_someone_else), and at most one
relation whose wording names its type ("started on <treatment> for <problem>": TrAP; "<test> showed": TeRP).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path

from mtclin.corpora.samples.clinical_text import (
    PROBLEMS, TESTS, TREATMENTS, NoteBuilder, Span, distinct_numbers, stay,
)
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import (
    Assertion, Document, Entity, Pair, Relation, sort_assertions, sort_entities, sort_relations,
)

NAME = "i2b2-2010"
TRAIN = "concept_assertion_relation_training_data"


@dataclass(frozen=True)
class Sentence:
    """A sentence template: slots p, p2 (problems), t (test), tr, tr2 (treatments), Pro (pronoun, plain text)."""

    template: str
    assertion: str = "present"  # the value of every problem the sentence marks
    relation: tuple[str, str, str] | None = None  # (first slot, i2b2 type, second slot): the .rel line it states


SENTENCES: tuple[Sentence, ...] = (
    Sentence("The patient presented with {p} and {p2} ."),
    Sentence("{Pro} complained of {p} for two days ."),
    Sentence("On admission , {t} showed {p} .", relation=("t", "TeRP", "p")),
    Sentence("We obtained {t} , which was unremarkable ."),
    Sentence("Results of {t} were within normal limits ."),
    Sentence("{Pro} was started on {tr} for {p} .", relation=("tr", "TrAP", "p")),
    Sentence("The patient was treated with {tr} and {tr2} ."),
    Sentence("{Pro} will continue {tr} at home ."),
    Sentence("{Pro} had {p} , which improved with {tr} .", relation=("tr", "TrIP", "p")),
    Sentence("{Pro} had {p} , which worsened despite {tr} .", relation=("tr", "TrWP", "p")),
    Sentence("{Pro} developed {p} after receiving {tr} .", relation=("tr", "TrCP", "p")),
    Sentence("We held {tr} because of {p} .", relation=("tr", "TrNAP", "p")),
    Sentence("We ordered {t} to evaluate {p} .", relation=("t", "TeCP", "p")),
    Sentence("{Pro} has {p} caused by {p2} .", relation=("p", "PIP", "p2")),
    Sentence("The patient denies {p} .", "absent"),
    Sentence("There was no evidence of {p} on {t} .", "absent"),
    Sentence("{Pro} had no {p} .", "absent"),
    Sentence("{t} showed possible {p} .", "possible", relation=("t", "TeRP", "p")),
    Sentence("Rule out {p} ?", "possible"),
    Sentence("{Pro} gets {p} when climbing stairs .", "conditional"),
    Sentence("{Pro} reports {p} with exertion .", "conditional"),
    Sentence("Return to the emergency department if you develop {p} .", "hypothetical"),
    Sentence("Family history is significant for {p} in the mother .", "associated_with_someone_else"),
    Sentence("Family history of {p} in a brother .", "associated_with_someone_else"),
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
        lines_of = ([line for line, _ in con], ast, [line for line, _ in rel])
        for directory, suffix, lines in zip(gold_dirs, (".con", ".ast", ".rel"), lines_of):
            _put(directory / f"{stem}{suffix}", "".join(line + "\n" for line in lines))
        doc_id = txt_path.relative_to(root).with_suffix("").as_posix()
        gold[split].append(_gold(doc_id, text, [span for _, span in con], assertions, rel))
    # The reader orders files by relative path (with extension).
    return {split: sorted(docs, key=lambda d: d.id + ".txt") for split, docs in gold.items()}


def _put(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8"))


def _note(rng: random.Random, canary: bool) -> tuple[str, list[Span], dict[Span, str], list[tuple[Span, str, Span]]]:
    """One note: text, concept spans, the assertion value of every problem and the stated relations."""
    note = NoteBuilder()
    he = rng.random() < 0.5
    admitted, discharged = stay(rng)
    for line in ("Admission Date :", admitted, "Discharge Date :", discharged):
        note.add(line + "\n")
    note.add(rng.choice(HEADINGS) + "\n")
    note.add(f"The patient is a {rng.randint(25, 90)} year old {'man' if he else 'woman'} with a history of ")
    note.mark(rng.choice(PROBLEMS), "problem")
    note.add(" .\n")
    values: dict[Span, str] = {}  # problems outside the templates (history, multi-line concept) are present
    relations: list[tuple[Span, str, Span]] = []
    n_lines = rng.randint(3, 12)
    multiline_at = rng.randrange(n_lines) if rng.random() < 0.6 else -1
    for i in range(n_lines):
        if i == multiline_at:
            _multiline(rng, note)
            continue
        sentence = rng.choice(SENTENCES)
        slots = {"Pro": ("He" if he else "She", None), "p": (rng.choice(PROBLEMS), "problem"),
                 "t": (rng.choice(TESTS), "test"), "tr": (rng.choice(TREATMENTS), "treatment")}
        slots["p2"] = (rng.choice([p for p in PROBLEMS if p != slots["p"][0]]), "problem")
        slots["tr2"] = (rng.choice([t for t in TREATMENTS if t != slots["tr"][0]]), "treatment")
        marked = [f for _, f, _, _ in string.Formatter().parse(sentence.template) if f and slots[f][1] is not None]
        by_slot = dict(zip(marked, note.fill(sentence.template + "\n", slots)))
        values.update({span: sentence.assertion for span in by_slot.values() if span.label == "problem"})
        if sentence.relation is not None:
            first, kind, second = sentence.relation
            relations.append((by_slot[first], kind, by_slot[second]))
    if canary:
        note.add(f"Dictated by : {CANARY} , M.D.\n")
    assertions = {span: values.get(span, "present") for span in note.spans if span.label == "problem"}
    return note.text, note.spans, assertions, relations


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


def _annotation_files(rng: random.Random, text: str, spans: list[Span], assertions: dict[Span, str],
                      relations: list[tuple[Span, str, Span]]
                      ) -> tuple[list[tuple[str, Span]], list[str], list[tuple[str, tuple[Span, str, Span]]]]:
    """The ``.con`` lines (shuffled, as the release's are not in text order, each with its span), the ``.ast``
    lines (one per problem) and the ``.rel`` lines (shuffled too, each with its relation)."""
    con = [(f'{_concept(text, s)}||t="{s.label}"', s) for s in spans]
    rng.shuffle(con)
    ast = [f'{_concept(text, s)}||t="problem"||a="{value}"' for s, value in assertions.items()]
    rel = [(f'{_concept(text, a)}||r="{kind}"||{_concept(text, b)}', (a, kind, b)) for a, kind, b in relations]
    rng.shuffle(rel)
    return con, ast, rel


def _gold(doc_id: str, text: str, con: list[Span], assertions: dict[Span, str],
          rel: list[tuple[str, tuple[Span, str, Span]]]) -> Document:
    """The Document the reader returns: entity ids ``L<line of the .con>``, relation ids ``R<line of the .rel>``."""
    ident = {span: f"L{number}" for number, span in enumerate(con, start=1)}
    entities = sort_entities([Entity(ident[span], span.label, ((span.start, span.end),)) for span in con])
    found = [Assertion(ident[span], value) for span, value in assertions.items()]
    links = [Relation(f"R{number}", kind, ident[a], ident[b]) for number, (_, (a, kind, b)) in enumerate(rel, start=1)]
    return Document(doc_id, text, entities, sort_assertions(found, entities), sort_relations(links, entities))
