"""English clinical-note building blocks for the sample corpora: lexicons and a builder that records the
character span of every entity while a note is composed.

The lexicons are closed and disjoint per type, and the templates that use them put each type in its own
contexts, so a model can learn the type from the surface form and its context. Every lexicon entry is already
tokenised (tokens separated by single spaces) so it can be used in pre-tokenised corpora as well.
"""

from __future__ import annotations

import datetime
import random
import string
from dataclasses import dataclass
from typing import Mapping

PROBLEMS = (
    "chest pain", "shortness of breath", "hypertension", "pneumonia", "atrial fibrillation", "diabetes mellitus",
    "congestive heart failure", "acute renal failure", "a urinary tract infection", "nausea", "fever",
    "abdominal pain", "coronary artery disease", "a left lower lobe infiltrate", "hyperlipidemia", "anemia",
    "a deep venous thrombosis", "cellulitis", "chronic obstructive pulmonary disease", "hypokalemia",
)
TESTS = (
    "a chest x-ray", "an echocardiogram", "a CBC", "blood cultures", "an EKG", "a CT of the chest",
    "a urinalysis", "serum potassium", "a cardiac catheterization", "troponin levels", "an abdominal ultrasound",
    "a lipid panel", "an MRI of the brain", "a hemoglobin A1c", "a stress test",
)
TREATMENTS = (
    "aspirin", "lisinopril", "IV fluids", "metoprolol", "heparin", "levofloxacin", "insulin", "lasix",
    "a coronary artery bypass graft", "vancomycin", "potassium chloride", "nitroglycerin", "physical therapy",
    "simvastatin", "coumadin",
)
DEPARTMENTS = ("the ICU", "the emergency department", "cardiology", "the CCU", "the medicine service",
               "the rehabilitation unit", "surgery")
FIRST_NAMES = ("John", "Mary", "Robert", "Linda", "James", "Patricia", "Michael", "Barbara", "William", "Susan",
               "David", "Karen", "Thomas", "Nancy", "Charles", "Lisa", "Walter", "Ruth")
LAST_NAMES = ("Miller", "Harris", "Nguyen", "Olsen", "Baker", "Carter", "Fischer", "Lopez", "Quinn", "Reyes",
              "Sullivan", "Turner", "Underwood", "Vance", "Whitaker", "Young", "Zimmerman", "Doyle")
HOSPITALS = ("Mercy General Hospital", "Riverside Medical Center", "St. Agnes Hospital",
             "Lakeview Community Hospital", "Northgate Clinic", "Harborview Memorial Hospital")
CITIES = ("Springfield", "Riverton", "Fairview", "Greenville", "Madison", "Ashland", "Clinton", "Georgetown")
STATES = ("MA", "NY", "CA", "TX", "OH", "Vermont", "Oregon")
STREETS = ("Maple Street", "Oak Avenue", "Elm Road", "Cedar Lane", "Pine Court", "Lake Drive", "Hill Road")
PROFESSIONS = ("carpenter", "teacher", "accountant", "electrician", "nurse", "truck driver", "librarian", "chef")
ORGANIZATIONS = ("General Motors", "the Post Office", "Acme Insurance", "City Transit", "Bright Bakery")
COUNTRIES = ("Ireland", "Brazil", "Vietnam", "Portugal", "Kenya")


@dataclass(frozen=True)
class Span:
    """A marked entity: half-open character offsets into the note and its label."""

    start: int
    end: int
    label: str

    def surface(self, text: str) -> str:
        return text[self.start:self.end]


class NoteBuilder:
    """Composes a note piece by piece, remembering where each marked entity lies."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.spans: list[Span] = []

    def add(self, piece: str) -> "NoteBuilder":
        """Append unannotated text."""
        self._parts.append(piece)
        self._length += len(piece)
        return self

    def mark(self, piece: str, label: str) -> Span:
        """Append ``piece`` as an entity of type ``label``; returns its span."""
        span = Span(self._length, self._length + len(piece), label)
        self.add(piece)
        self.spans.append(span)
        return span

    def fill(self, template: str, slots: Mapping[str, tuple[str, str | None]]) -> list[Span]:
        """Append ``template`` with each ``{slot}`` replaced by ``slots[slot] = (surface, label)``; slots with
        label None are plain text. Returns the new spans in order."""
        new: list[Span] = []
        for literal, field, _, _ in string.Formatter().parse(template):
            self.add(literal)
            if field is None:
                continue
            surface, label = slots[field]
            if label is None:
                self.add(surface)
            else:
                new.append(self.mark(surface, label))
        return new

    @property
    def text(self) -> str:
        return "".join(self._parts)


def person(rng: random.Random) -> str:
    """A 'First Last' name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def iso_date(rng: random.Random, years: tuple[int, int] = (2060, 2095)) -> str:
    """A date as YYYY-MM-DD (i2b2 notes are date-shifted into the future)."""
    return f"{rng.randint(*years)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def stay(rng: random.Random, years: tuple[int, int] = (2010, 2020)) -> tuple[str, str]:
    """Admission and discharge dates (YYYY-MM-DD), discharge 1 to 14 days later."""
    admitted = datetime.date(rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28))
    discharged = admitted + datetime.timedelta(days=rng.randint(1, 14))
    return admitted.isoformat(), discharged.isoformat()


def us_date(rng: random.Random, years: tuple[int, int] = (2060, 2095)) -> str:
    """A date as MM/DD/YYYY."""
    return f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(*years)}"


def phone(rng: random.Random) -> str:
    """A US phone number, (555) 123-4567."""
    return f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"


def digits(rng: random.Random, n: int) -> str:
    """``n`` random digits (a leading zero allowed)."""
    return "".join(rng.choice("0123456789") for _ in range(n))


def distinct_numbers(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """``count`` distinct integers in ``[low, high]``, sorted (for file names)."""
    return sorted(rng.sample(range(low, high + 1), count))
