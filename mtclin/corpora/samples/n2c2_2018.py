"""Sample n2c2-2018 track 2 corpus: English discharge-summary-style notes in the official BRAT layout.

Writes ``training_20180910/<id>.txt,.ann`` and ``gold-standard-test-data/test/<id>.txt,.ann`` under ``root``.
Each medication type has its own lexicon and typical context (a medication list line, "held due to <ADE>",
"for <Reason>"), so a model can learn them. Reproduced quirks: discontinuous Reasons (``T7\\tReason 100 104;
113 128``), overlapping entities, spans crossing a line break (one fragment whose ``.ann`` text has a space for
the newline, or two fragments split at the newline), relation lines ``R1\\tStrength-Drug Arg1:T2 Arg2:T1`` and
MIMIC-style de-identification brackets. The ``.ann`` text of a discontinuous entity takes the three forms of
real releases: the fragments joined by a space (brat's), their plain concatenation where fragments touch
(``T33\\tForm 4765 4771;4771 4781\\tTablet, Chewable``) and, for entities marked so, the covering text
(``T4\\tDrug 15488 15501;15503 15511\\thydromorphone (Dilaudid``).

Relations: every attribute is linked (an ``R`` line) to the nearest Drug of its item (a medication line, a course
sentence group), the proximity a model can learn; one item puts an ADE a sentence and a line after its Drug, as
real ADE-Drug pairs often are.

Also home of :func:`render_markup`, the inline entity markup both BRAT sample writers build notes from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from mtclin.corpora.brat import entity_sort_key, format_text_bound
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import Document, Entity, Pair, Relation, sort_relations

NAME = "n2c2-2018"
OPEN, CLOSE = "⟦", "⟧"  # never occur in generated note text, unlike [ ] (de-identification brackets)


@dataclass
class Marked:
    """An entity as the markup declares it: its types (two for one span with two types), its fragments in
    the order the ``.ann`` file lists them."""

    types: tuple[str, ...]
    fragments: list[tuple[int, int]] = field(default_factory=list)
    reverse: bool = False  # list the fragments last-first in the .ann (a real quaero quirk)
    covering: bool = False  # the .ann text is the covering text, first start to last end (a real n2c2 quirk)


def render_markup(markup: str, base: int = 0) -> tuple[str, list[Marked]]:
    """Strip inline entity markup, returning the text and its entities (offsets shifted by ``base``) in the
    order their first bracket opens (outer before inner). Syntax: ``⟦Drug:aspirin⟧``; nesting
    ``⟦DISO:cancer du ⟦ANAT:poumon⟧⟧``; one span, two types ``⟦DISO+LIVB:VIH⟧``; a discontinuous entity is
    a group key continued by ``⟦~key:...⟧``: ``⟦DISO~h:hépatite⟧ chronique ⟦~h:B⟧``; ``~key!`` lists its
    fragments in reverse, ``~key^`` marks its ``.ann`` text as the covering text."""
    text: list[str] = []
    position = base
    stack: list[tuple[Marked, int]] = []
    groups: dict[str, Marked] = {}
    order: list[Marked] = []
    i = 0
    while i < len(markup):
        char = markup[i]
        if char == OPEN:
            colon = markup.index(":", i)
            types, _, key = markup[i + 1:colon].partition("~")
            if types:
                marked = Marked(tuple(types.split("+")), reverse=key.endswith("!"), covering=key.endswith("^"))
                order.append(marked)
                if key:
                    groups[key.rstrip("!^")] = marked
            else:
                marked = groups[key]
            stack.append((marked, position))
            i = colon + 1
        elif char == CLOSE:
            marked, start = stack.pop()
            marked.fragments.append((start, position))
            i += 1
        else:
            text.append(char)
            position += 1
            i += 1
    return "".join(text), order


def entities_of(marked: list[Marked], first_id: int = 1) -> list[Entity]:
    """Number the marked entities ``T<first_id>...`` in order, one per type; fragments in listing order."""
    entities = []
    for item in marked:
        listed = tuple(reversed(item.fragments)) if item.reverse else tuple(item.fragments)
        for label in item.types:
            entities.append(Entity(f"T{first_id + len(entities)}", label, listed))
    return entities


def gold_document(doc_id: str, text: str, listed: list[Entity], relations: Sequence[Relation] = ()) -> Document:
    """The Document a reader returns for these entities and relations: fragments sorted, entities and relations in
    reader order."""
    entities = tuple(sorted((Entity(e.id, e.type, tuple(sorted(e.fragments))) for e in listed), key=entity_sort_key))
    return Document(doc_id, text, entities, relations=sort_relations(relations, entities))


# Per-type lexicons: the surface form alone mostly tells the type (the learnable regularity).
DRUGS = ["lisinopril", "metoprolol", "warfarin", "heparin", "vancomycin", "furosemide", "amlodipine",
         "atorvastatin", "insulin glargine", "pantoprazole", "acetaminophen", "oxycodone", "ceftriaxone",
         "prednisone", "aspirin"]
STRENGTHS = ["5 mg", "10 mg", "20 mg", "40 mg", "81 mg", "500 mg", "1 g", "2.5 mg", "100 unit/mL"]
DOSAGES = ["One (1)", "Two (2)", "1-2", "10 units", "one tablet", "two puffs"]
FORMS = ["Tablet", "Capsule", "Solution", "Inhaler", "Patch", "Suspension"]
ROUTES = ["PO", "IV", "SC", "by mouth", "topically", "IM"]
FREQUENCIES = ["DAILY", "BID", "TID", "Q6H", "every 8 hours", "at bedtime", "Q4H PRN"]
DURATIONS = ["for 7 days", "for 2 weeks", "x 5 days", "for 10 days", "for one month"]
REASONS = ["hypertension", "atrial fibrillation", "pneumonia", "pain", "cellulitis", "heart failure",
           "diabetes", "GERD", "DVT prophylaxis", "constipation"]
ADES = ["rash", "hyperkalemia", "acute kidney injury", "angioedema", "GI bleed", "hypotension",
        "thrombocytopenia", "nausea", "bradycardia"]


def _pick(rng: random.Random, lexicon: list[str], label: str) -> str:
    return f"{OPEN}{label}:{rng.choice(lexicon)}{CLOSE}"


def _medication_line(rng: random.Random, number: int) -> str:
    p = lambda lexicon, label: _pick(rng, lexicon, label)  # noqa: E731
    line = (f"{number}. {p(DRUGS, 'Drug')} {p(STRENGTHS, 'Strength')} {p(FORMS, 'Form')} Sig: "
            f"{p(DOSAGES, 'Dosage')} {p(FORMS, 'Form')} {p(ROUTES, 'Route')} {p(FREQUENCIES, 'Frequency')}")
    if rng.random() < 0.4:
        line += f" {p(DURATIONS, 'Duration')}"
    return line + "."


def _course_line(rng: random.Random) -> str:
    p = lambda lexicon, label: _pick(rng, lexicon, label)  # noqa: E731
    options = [
        lambda: f"Started on {p(DRUGS, 'Drug')} {p(ROUTES, 'Route')} for {p(REASONS, 'Reason')}.",
        lambda: f"{p(DRUGS, 'Drug')} was held due to {p(ADES, 'ADE')}.",
        lambda: f"Patient developed {p(ADES, 'ADE')} on {p(DRUGS, 'Drug')}, which was discontinued.",
        lambda: (f"Continue {p(DRUGS, 'Drug')} {p(STRENGTHS, 'Strength')} {p(FREQUENCIES, 'Frequency')} "
                 f"for {p(REASONS, 'Reason')}."),
        lambda: f"Treated with {p(DRUGS, 'Drug')} {p(DURATIONS, 'Duration')} for {p(REASONS, 'Reason')}.",
        # discontinuous Reason sharing its head with an overlapping one
        lambda: (f"Given {p(DRUGS, 'Drug')} for {OPEN}Reason~r:left{CLOSE} and "
                 f"{OPEN}Reason:right {OPEN}~r:leg cellulitis{CLOSE}{CLOSE}."),
        # a Reason crossing a line break: the .ann text has a space where the note has a newline
        lambda: (f"Dyspnea attributed to {OPEN}Reason:heart\nfailure{CLOSE}, diuresed with "
                 f"{p(DRUGS, 'Drug')} {p(ROUTES, 'Route')}."),
        # the same, split by BRAT into two fragments at the line break (T80\tReason 17807 17824;17825 17837)
        lambda: (f"Rate control with {p(DRUGS, 'Drug')} for {OPEN}Reason~f:paroxysmal atrial{CLOSE}\n"
                 f"{OPEN}~f:fibrillation{CLOSE}, tolerated well."),
        # touching fragments: the .ann text is their concatenation (T33\tForm 4765 4771;4771 4781)
        lambda: (f"Switched {p(DRUGS, 'Drug')} to {OPEN}Form~t:Tablet{CLOSE}{OPEN}~t:, Chewable{CLOSE} "
                 f"{p(ROUTES, 'Route')}."),
        # a brand name in parentheses: the .ann text is the covering text (15488 15501;15503 15511)
        lambda: (f"Pain controlled with {OPEN}Drug~h^:hydromorphone{CLOSE} ({OPEN}~h:Dilaudid{CLOSE}) "
                 f"{p(ROUTES, 'Route')} for {p(REASONS, 'Reason')}."),
        # an adverse event a sentence and a line away from its drug (real ADE-Drug pairs often are)
        lambda: (f"Started {p(DRUGS, 'Drug')} {p(ROUTES, 'Route')} for {p(REASONS, 'Reason')}. Renal function was "
                 f"followed closely.\nOn day three {p(ADES, 'ADE')} was noted and it was stopped."),
    ]
    return rng.choice(options)()


def _note(rng: random.Random, canary: bool) -> list[str]:
    """Markup for one note of 8-20 lines, as its items (a header, a course sentence, a medication line; an item
    may run over two lines): the note is the items joined by newlines, relations never leave their item."""
    day = rng.randint(1, 20)
    items = [f"Admission Date: [**2115-2-{day}**] Discharge Date: [**2115-2-{day + 6}**]", "",
             "Service: MEDICINE", ""]
    if canary:
        items.insert(1, f"Name: {CANARY} Unit No: [**Numeric Identifier {rng.randint(1000, 9999)}**]")
    items.append("Brief Hospital Course:")
    items += [_course_line(rng) for _ in range(rng.randint(2, 5))]
    items += ["", "Discharge Medications:"]
    items += [_medication_line(rng, n) for n in range(1, rng.randint(2, 4) + 1)]
    items += ["", "Discharge Condition: stable.", ""]
    return items


def item_bounds(items: list[str]) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each item's rendered text in the note ``"\\n".join(items)``."""
    bounds, start = [], 0
    for item in items:
        end = start + len(render_markup(item)[0])
        bounds.append((start, end))
        start = end + 1
    return bounds


def _text_bound(entity: Entity, item: Marked, text: str) -> str:
    """The ``.ann`` line of ``entity`` (declared by ``item``), its text in the form a real release uses."""
    line = format_text_bound(entity, text)
    fragments = entity.fragments
    if item.covering:
        surface = text[min(s for s, _ in fragments):max(e for _, e in fragments)]
    elif len(fragments) > 1 and all(a[1] == b[0] for a, b in zip(fragments, fragments[1:])):
        surface = "".join(text[s:e] for s, e in fragments)
    else:
        return line
    return line.rsplit("\t", 1)[0] + "\t" + surface.replace("\n", " ").replace("\r", " ")


def _gap(a: Entity, b: Entity) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


def relations_of(listed: list[Entity], bounds: list[tuple[int, int]]) -> list[Relation]:
    """Every attribute linked to the nearest Drug of its item (``bounds``), before or after it (the earlier one on
    a tie), as ``R<n>`` numbered in the attributes' text order: the proximity a model can learn."""
    relations: list[Relation] = []
    for start, end in bounds:
        inside = sorted((e for e in listed if start <= e.start < end), key=lambda e: (e.start, e.end))
        drugs = [e for e in inside if e.type == "Drug"]
        for entity in inside:
            if entity.type == "Drug" or not drugs:
                continue
            drug = min(drugs, key=lambda d: (_gap(entity, d), d.start))
            relations.append(Relation(f"R{len(relations) + 1}", f"{entity.type}-Drug", entity.id, drug.id))
    return relations


def _relation_line(relation: Relation) -> str:
    return f"{relation.id}\t{relation.type} Arg1:{relation.arg1} Arg2:{relation.arg2}"


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the sample corpus under ``root`` (official layout) and return the gold per split."""
    rng = rng_for(NAME, seed)
    counts = {"train": max(1, round(30 * scale)), "test": max(1, round(10 * scale))}
    folders = {"train": Path("training_20180910"), "test": Path("gold-standard-test-data") / "test"}
    names = iter(sorted(rng.sample(range(100000, 1000000), sum(counts.values()))))
    gold: dict[str, list[Document | Pair]] = {}
    for split, count in counts.items():
        folder = Path(root) / folders[split]
        folder.mkdir(parents=True, exist_ok=True)
        documents: list[Document | Pair] = []
        for index in range(count):
            name = str(next(names))
            items = _note(rng, canary=index % 3 == 0)
            text, marked = render_markup("\n".join(items))
            listed = entities_of(marked)
            declared = [item for item in marked for _ in item.types]  # the Marked of each listed entity
            relations = relations_of(listed, item_bounds(items))
            ann = [_text_bound(e, item, text) for e, item in zip(listed, declared)]
            ann += [_relation_line(relation) for relation in relations]
            (folder / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
            (folder / f"{name}.ann").write_text("\n".join(ann) + "\n", encoding="utf-8", newline="")
            documents.append(gold_document((folders[split] / name).as_posix(), text, listed, relations))
        gold[split] = documents
    return gold
