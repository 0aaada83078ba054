"""Sample i2b2-2012 corpus in the official layout: ``ClinicalNarrativeTemporalAnnotation`` XML files with the
note in a CDATA section and EVENT, TIMEX3, TLINK and SECTIME tags. Quirks reproduced: 1-based offsets against
the CDATA text, and bare ``&`` in note texts and in ``text=``/``fromText=`` attributes (``I&D``, ``CT A&P``),
which makes those files not well-formed XML, as in the real release.
"""

from __future__ import annotations

import random
from pathlib import Path

from mtclin.corpora.samples.clinical_text import (
    PROBLEMS, TESTS, TREATMENTS, NoteBuilder, Span, distinct_numbers, iso_date, stay,
)
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import Document, Entity, Pair, sort_entities

NAME = "i2b2-2012"
TRAIN_DIR = "2012-07-15.original-annotation.release"
TEST_DIR = "2012-08-23.test-data.groundtruth/ground_truth/merged_xml"

LEXICON: dict[str, tuple[str, ...]] = {
    "OCCURRENCE": ("admitted", "transferred", "moved", "brought"),
    "OCCURRENCE_BY": ("seen", "evaluated", "followed", "examined"),
    "EVIDENTIAL": ("showed", "revealed", "demonstrated", "reported"),
    "CLINICAL_DEPT": ("ICU", "emergency department", "CCU", "medicine service", "cardiology service",
                      "rehabilitation unit"),
    "PROBLEM": PROBLEMS,
    # Abbreviations with a bare '&', as written in the real notes and text= attributes.
    "TEST": TESTS + ("a CT A&P", "b&w films"),
    "TREATMENT": TREATMENTS + ("an I&D", "a D&C"),
}

# Slots: o, ob (OCCURRENCE: moved to / done by), e (EVIDENTIAL), d (CLINICAL_DEPT), p (PROBLEM), t (TEST),
# tr (TREATMENT), date (a TIMEX3 DATE, not an EVENT). The flag marks templates whose problem is negated.
SENTENCES: tuple[tuple[str, bool], ...] = (
    ("The patient was {o} to the {d} with {p} .", False),
    ("On {date} , the patient was {o} to the {d} .", False),
    ("{t} {e} {p} .", False),
    ("An exam on arrival {e} {p} .", False),
    ("{Pro} was treated with {tr} for {p} .", False),
    ("{Pro} received {tr} on {date} .", False),
    ("The patient denies {p} .", True),
    ("{Pro} was {ob} by PT&OT before discharge .", False),
    ("{t} on {date} was within normal limits .", False),
)
HEADINGS = ("HISTORY OF PRESENT ILLNESS :", "HOSPITAL COURSE :")


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the sample corpus under ``root`` (created if needed) and return the gold documents per split,
    exactly as ``mtclin.corpora.i2b2_2012.read`` returns them."""
    rng = rng_for(NAME, seed)
    root = Path(root)
    n_train, n_test = max(2, round(30 * scale)), max(1, round(10 * scale))
    numbers = distinct_numbers(rng, n_train + n_test, 1, 900)
    rng.shuffle(numbers)
    gold: dict[str, list[Document | Pair]] = {}
    for split, directory, names in (("train", TRAIN_DIR, numbers[:n_train]),
                                    ("test", TEST_DIR, numbers[n_train:])):
        docs = []
        for index, number in enumerate(names):
            text, events, timexes, links = _note(rng, canary=index % 4 == 2)
            path = root / directory / f"{number}.xml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_xml(text, events, timexes, links).encode("utf-8"))
            entities = [Entity(f"E{i}", span.label, ((span.start, span.end),)) for i, (span, _) in enumerate(events)]
            docs.append(Document(f"{directory}/{number}", text, sort_entities(entities)))
        # The reader orders files by relative path.
        gold[split] = sorted(docs, key=lambda d: d.id + ".xml")
    return gold


def _note(rng: random.Random, canary: bool
          ) -> tuple[str, list[tuple[Span, str]], list[tuple[Span, str]], list[tuple[int, int]]]:
    """One note: text, EVENTs (span, polarity), TIMEX3s (span, ISO value) and links (event, timex index)."""
    note = NoteBuilder()
    events: list[tuple[Span, str]] = []
    timexes: list[tuple[Span, str]] = []
    links: list[tuple[int, int]] = []
    admitted, discharged = stay(rng)
    for word, date in (("Admission", admitted), ("Discharge", discharged)):
        events.append((note.mark(word, "OCCURRENCE"), "POS"))
        note.add(" Date :\n")
        timexes.append((note.mark(date, "DATE"), date))
        links.append((len(events) - 1, len(timexes) - 1))
        note.add("\n")
    note.add("\n" + rng.choice(HEADINGS) + "\n")
    he = rng.random() < 0.5
    for _ in range(rng.randint(4, 12)):
        template, negated = rng.choice(SENTENCES)
        date = iso_date(rng, (2010, 2020))
        slots = {"Pro": ("He" if he else "She", None), "date": (date, "DATE")}
        slots["ob"] = (rng.choice(LEXICON["OCCURRENCE_BY"]), "OCCURRENCE")
        for slot, label in (("o", "OCCURRENCE"), ("e", "EVIDENTIAL"), ("d", "CLINICAL_DEPT"), ("p", "PROBLEM"),
                            ("t", "TEST"), ("tr", "TREATMENT")):
            slots[slot] = (rng.choice(LEXICON[label]), label)
        if template.startswith("{t}"):
            slots["t"] = (slots["t"][0][0].upper() + slots["t"][0][1:], "TEST")
        first_event = len(events)
        for span in note.fill(template + "\n", slots):
            if span.label == "DATE":
                timexes.append((span, date))
            else:
                events.append((span, "NEG" if negated and span.label == "PROBLEM" else "POS"))
        if "{date}" in template:
            links.append((first_event, len(timexes) - 1))
    if canary:
        note.add(f"Dictated by : {CANARY} , M.D.\n")
    return note.text, events, timexes, links


def _attr(value: str) -> str:
    """An attribute value as the release writes it: quotes and '<' escaped, '&' left bare."""
    return value.replace("<", "&lt;").replace('"', "&quot;")


def _xml(text: str, events: list[tuple[Span, str]], timexes: list[tuple[Span, str]],
         links: list[tuple[int, int]]) -> str:
    """The annotation file; offsets are written 1-based, as in the release."""
    tags = []
    for i, (span, polarity) in enumerate(events):
        tags.append(f'<EVENT id="E{i}" start="{span.start + 1}" end="{span.end + 1}" '
                    f'text="{_attr(span.surface(text))}" modality="FACTUAL" polarity="{polarity}" '
                    f'type="{span.label}" />')
    for i, (span, value) in enumerate(timexes):
        tags.append(f'<TIMEX3 id="T{i}" start="{span.start + 1}" end="{span.end + 1}" '
                    f'text="{_attr(span.surface(text))}" type="DATE" val="{value}" mod="NA" />')
    for i, (event, timex) in enumerate(links):
        tags.append(f'<TLINK id="TL{i}" fromID="E{event}" fromText="{_attr(events[event][0].surface(text))}" '
                    f'toID="T{timex}" toText="{_attr(timexes[timex][0].surface(text))}" type="OVERLAP" />')
    for i, kind in enumerate(("ADMISSION", "DISCHARGE")):
        span, value = timexes[i]
        tags.append(f'<SECTIME id="S{i}" start="{span.start + 1}" end="{span.end + 1}" '
                    f'text="{_attr(span.surface(text))}" type="{kind}" dvalue="{value}" />')
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<ClinicalNarrativeTemporalAnnotation>\n'
            f"<TEXT><![CDATA[{text}]]></TEXT>\n<TAGS>\n" + "".join(t + "\n" for t in tags)
            + "</TAGS>\n</ClinicalNarrativeTemporalAnnotation>\n")
