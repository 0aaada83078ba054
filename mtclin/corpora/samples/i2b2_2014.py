"""Sample i2b2-2014 corpus in the official layout: ``deIdi2b2`` XML files named ``NNN-NN.xml``
(patient-record) with the note in a CDATA section (starting, as the real notes do, with blank lines and
``Record date:``) and one tag per PHI: tag name = category, ``TYPE`` = subtype, 0-based half-open offsets.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from mtclin.corpora.i2b2_2014 import CATEGORY_OF
from mtclin.corpora.samples.clinical_text import (
    CITIES, COUNTRIES, FIRST_NAMES, HOSPITALS, LAST_NAMES, ORGANIZATIONS, PROBLEMS, PROFESSIONS, STATES, STREETS,
    TREATMENTS, NoteBuilder, Span, digits, distinct_numbers, iso_date, person, phone, us_date,
)
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import Document, Entity, Pair, sort_entities

NAME = "i2b2-2014"
TRAIN_DIRS = ("training-PHI-Gold-Set1", "training-PHI-Gold-Set2")
TEST_DIR = "testing-PHI-Gold-fixed"


def _username(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)[0].lower()}{rng.choice(LAST_NAMES).lower()}{rng.randint(1, 9)}"


# One surface generator per PHI subtype: each has its own shape, and the templates give each its own context.
PHI: dict[str, Callable[[random.Random], str]] = {
    "PATIENT": person,
    "DOCTOR": person,
    "USERNAME": _username,
    "PROFESSION": lambda rng: rng.choice(PROFESSIONS),
    "ROOM": lambda rng: f"{rng.randint(1, 9)}{rng.choice('ABCD')}-{rng.randint(10, 40)}",
    "DEPARTMENT": lambda rng: rng.choice(("cardiology", "oncology", "neurology", "endocrine", "renal")),
    "HOSPITAL": lambda rng: rng.choice(HOSPITALS),
    "ORGANIZATION": lambda rng: rng.choice(ORGANIZATIONS),
    "STREET": lambda rng: f"{rng.randint(2, 980)} {rng.choice(STREETS)}",
    "CITY": lambda rng: rng.choice(CITIES),
    "STATE": lambda rng: rng.choice(STATES),
    "COUNTRY": lambda rng: rng.choice(COUNTRIES),
    "ZIP": lambda rng: digits(rng, 5),
    "LOCATION-OTHER": lambda rng: rng.choice(("the Blue Ridge trail", "Lake Placid park", "the county fair")),
    "AGE": lambda rng: str(rng.randint(19, 94)),
    "DATE": lambda rng: rng.choice((iso_date, us_date))(rng),
    "PHONE": phone,
    "FAX": phone,
    "EMAIL": lambda rng: f"{_username(rng)}@{rng.choice(('mail.com', 'webpost.net', 'inbox.org'))}",
    "URL": lambda rng: f"www.{rng.choice(LAST_NAMES).lower()}{rng.choice(('health', 'care', 'clinic'))}.org",
    "IPADDR": lambda rng: f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    "SSN": lambda rng: f"{digits(rng, 3)}-{digits(rng, 2)}-{digits(rng, 4)}",
    "MEDICALRECORD": lambda rng: digits(rng, 7),
    "HEALTHPLAN": lambda rng: f"HP{digits(rng, 8)}",
    "ACCOUNT": lambda rng: f"{digits(rng, 4)}-{digits(rng, 6)}",
    "LICENSE": lambda rng: f"LIC {digits(rng, 6)}",
    "VEHICLE": lambda rng: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(17)),
    "DEVICE": lambda rng: f"SN-{digits(rng, 9)}",
    "BIOID": lambda rng: f"BX{digits(rng, 2)}-{digits(rng, 5)}",
    "IDNUM": lambda rng: f"{digits(rng, 2)}-{digits(rng, 7)}",
}

# Body lines; a slot named after a subtype is that PHI, {problem}/{treatment} are plain clinical text.
LINES = (
    "{Pro} is a {AGE} year old {PROFESSION} who was seen in the {DEPARTMENT} clinic by Dr. {DOCTOR}.",
    "{Pro} works as a {PROFESSION} at {ORGANIZATION} and lives in {CITY}, {STATE}.",
    "Born in {COUNTRY}, {Pro} moved to {CITY} on {DATE}.",
    "Follow up with Dr. {DOCTOR} at {HOSPITAL}, phone {PHONE}, fax {FAX}.",
    "Admitted on {DATE} to room {ROOM} for {problem}.",
    "Patient email: {EMAIL}; portal: {URL}",
    "Injured while hiking at {LOCATION-OTHER} on {DATE}.",
    "SSN: {SSN}   Health plan: {HEALTHPLAN}   Account: {ACCOUNT}",
    "Driver license {LICENSE}, vehicle VIN {VEHICLE}.",
    "Pacemaker serial {DEVICE}; biopsy specimen {BIOID}; order {IDNUM}.",
    "Remote login by {USERNAME} from {IPADDR}.",
    "Assessment: {problem}, continue {treatment}. Return visit on {DATE}.",
    "Lab results discussed with {PATIENT} today.",
)


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the sample corpus under ``root`` (created if needed) and return the gold documents per split,
    exactly as ``mtclin.corpora.i2b2_2014.read`` returns them."""
    rng = rng_for(NAME, seed)
    root = Path(root)
    n_train, n_test = max(2, round(30 * scale)), max(1, round(10 * scale))
    names = [f"{patient}-{rng.randint(1, 5):02d}" for patient in distinct_numbers(rng, n_train + n_test, 100, 999)]
    rng.shuffle(names)
    placed = [(TRAIN_DIRS[i % 2], "train", name) for i, name in enumerate(names[:n_train])]
    placed += [(TEST_DIR, "test", name) for name in names[n_train:]]
    gold: dict[str, list[Document | Pair]] = {"train": [], "test": []}
    for index, (directory, split, name) in enumerate(placed):
        text, spans = _note(rng, canary=index % 4 == 3)
        path = root / directory / f"{name}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_xml(text, spans).encode("utf-8"))
        entities = [Entity(f"P{i}", s.label, ((s.start, s.end),)) for i, s in enumerate(spans)]
        gold[split].append(Document(f"{directory}/{name}", text, sort_entities(entities)))
    # The reader orders files by relative path.
    return {split: sorted(docs, key=lambda d: d.id + ".xml") for split, docs in gold.items()}


def _note(rng: random.Random, canary: bool) -> tuple[str, list[Span]]:
    """One note: its text and PHI spans (labelled by subtype), in text order."""
    note = NoteBuilder()
    phi = {label: (make(rng), label) for label, make in PHI.items()}
    he = rng.random() < 0.5
    # Real notes open with blank lines and the record date (so the first DATE is at offset 16).
    note.fill("\n\n\nRecord date: {DATE}\n\n{HOSPITAL}, {STREET}, {CITY}, {STATE} {ZIP}\n\n", phi)
    patient = (person(rng), "PATIENT")
    note.fill("{PATIENT}\nMRN: {MEDICALRECORD}\n\n", {**phi, "PATIENT": patient})
    for template in rng.sample(LINES, rng.randint(3, 8)):
        slots = {label: (make(rng), label) for label, make in PHI.items()}
        slots["PATIENT"] = patient
        slots["Pro"] = ("he" if he else "she", None)
        slots["problem"] = (rng.choice(PROBLEMS), None)
        slots["treatment"] = (rng.choice(TREATMENTS), None)
        if template.startswith("{Pro}"):
            slots["Pro"] = ("He" if he else "She", None)
        note.fill(template + "\n", slots)
    if canary:
        note.add(f"Transcription ref: {CANARY}\n")
    note.fill("{DOCTOR}, M.D.\n", {"DOCTOR": (person(rng), "DOCTOR")})
    return note.text, note.spans


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _xml(text: str, spans: list[Span]) -> str:
    """The annotation file: note in CDATA, then one tag per PHI (category name, subtype in TYPE)."""
    tags = "".join(
        f'<{CATEGORY_OF[s.label]} id="P{i}" start="{s.start}" end="{s.end}" text="{_attr(s.surface(text))}" '
        f'TYPE="{s.label}" comment="" />\n' for i, s in enumerate(spans))
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<deIdi2b2>\n<TEXT><![CDATA[{text}]]></TEXT>\n'
            f"<TAGS>\n{tags}</TAGS>\n</deIdi2b2>\n")
