"""De-identification as an output: a note with every predicted PHI span replaced by its type in brackets.

``deidentify(text, entities)`` takes the note and the PHI entities ``Predictor.predict`` gives for the PHI task
(``{"start", "end", "type", "score"}``, character offsets into the text) and returns the new text and one
:class:`Replacement` per replaced region, with its offsets in the original and in the output text.

Overlapping predictions (a span head may nest ``Boston`` CITY inside ``Boston City Hospital`` HOSPITAL; windows or
a second head may disagree) are merged into one replacement covering their union (transitively: a chain of
overlaps is one region), so no character is replaced twice and no piece of PHI survives between two brackets. The
region takes the type of its longest span: the bracket describes the whole region, and the longest span covers
most of it (under nesting it is the outer entity: ``[HOSPITAL]``, not ``[CITY]``); ties go to the higher score,
then the earlier start, then the type name (deterministic). Adjacent spans (one ends where the next starts) share
no character: they stay separate replacements (``[DOCTOR][DATE]``), as the model predicted them.

``surrogates=True``: each distinct PHI string of a note gets a numbered tag, ``[DOCTOR-1]``, ``[DOCTOR-2]``, the
same string the same tag wherever it occurs in the note (compared case-folded, whitespace collapsed: headers write
names in capitals), numbered per type in order of first occurrence. Numbered tags rather than realistic fake values:
they are deterministic with no name or date generator, keep coreference within the note (who is who) and the type
visible to downstream readers and models, and can never be mistaken for real values; a fake date would also have
to shift every other date of the note consistently to stay plausible. Numbering restarts with every note.

Pure functions over plain values; nothing here reads, logs or raises with note text (errors name offsets only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

from mtclin.corpora.i2b2_2014 import NAME as PHI_TASK  # the PHI corpus whose head finds what deid replaces

Span = tuple[int, int, str, float]  # (start, end, type, score), half-open character offsets


@dataclass(frozen=True)
class Replacement:
    """One replaced region: ``start``/``end`` in the original text, ``output_start``/``output_end`` in the
    de-identified text (``output[output_start:output_end] == replacement``), ``merged`` predicted spans in it."""

    start: int
    end: int
    type: str
    output_start: int
    output_end: int
    replacement: str
    score: float
    merged: int = 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Deidentified:
    text: str
    replaced: tuple[Replacement, ...]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "replaced": [r.to_json() for r in self.replaced]}


def as_spans(entities: Iterable[Mapping[str, Any] | Sequence[Any]]) -> list[Span]:
    """Predictor entities (dicts) or ``(start, end, type[, score])`` tuples as :data:`Span` tuples."""
    out = []
    for e in entities:
        if isinstance(e, Mapping):
            out.append((int(e["start"]), int(e["end"]), str(e["type"]), float(e.get("score", 1.0))))
        else:
            out.append((int(e[0]), int(e[1]), str(e[2]), float(e[3]) if len(e) > 3 else 1.0))
    return out


def merge_spans(spans: Iterable[Span]) -> list[tuple[Span, int]]:
    """Overlapping spans merged into one (union of characters; type of the longest, see the module doc), sorted by
    start; adjacent spans kept apart. Returns ``(merged span, how many spans it merges)``; the merged score is the
    winning span's (the probability of the type it reports). Empty spans (start == end) replace nothing and are
    dropped."""
    ordered = sorted((s for s in spans if s[1] > s[0]), key=lambda s: (s[0], s[1], s[2]))
    groups: list[list[Span]] = []
    reach = -1  # the furthest end of the current group
    for span in ordered:
        if groups and span[0] < reach:  # shares a character with the group (sorted by start)
            groups[-1].append(span)
            reach = max(reach, span[1])
        else:
            groups.append([span])
            reach = span[1]
    out = []
    for group in groups:
        winner = min(group, key=lambda s: (-(s[1] - s[0]), -s[3], s[0], s[2]))
        merged = (min(s[0] for s in group), max(s[1] for s in group), winner[2], winner[3])
        out.append((merged, len(group)))
    return out


def _key(original: str) -> str:
    return " ".join(original.casefold().split())


def deidentify(text: str, entities: Iterable[Mapping[str, Any] | Sequence[Any]], surrogates: bool = False
               ) -> Deidentified:
    """``text`` with every entity replaced by ``[TYPE]`` (or a per-note surrogate ``[TYPE-n]``), overlaps merged.
    ``entities``: Predictor entities or ``(start, end, type[, score])``. Raises ValueError naming the offsets of a
    span outside the text (never its characters)."""
    spans = as_spans(entities)
    for i, (start, end, etype, _) in enumerate(spans):
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"entity {i} ({etype} {start}:{end}) is outside the text (length {len(text)}): pass "
                             "the entities predicted for this text")
    pieces: list[str] = []
    replaced: list[Replacement] = []
    numbers: dict[tuple[str, str], int] = {}  # (type, normalised original) -> its surrogate number
    per_type: dict[str, int] = {}
    pos = out_len = 0
    for (start, end, etype, score), count in merge_spans(spans):
        if surrogates:
            key = (etype, _key(text[start:end]))
            if key not in numbers:
                per_type[etype] = numbers[key] = per_type.get(etype, 0) + 1
            tag = f"[{etype}-{numbers[key]}]"
        else:
            tag = f"[{etype}]"
        pieces.append(text[pos:start])
        out_start = out_len + (start - pos)
        pieces.append(tag)
        out_len = out_start + len(tag)
        replaced.append(Replacement(start, end, etype, out_start, out_len, tag, round(score, 6), count))
        pos = end
    pieces.append(text[pos:])
    return Deidentified("".join(pieces), tuple(replaced))


def phi_task(tasks: Sequence[Any], name: str | None = None, where: str = "the model", option: str = "--task"
             ) -> str:
    """The name of the PHI task among ``tasks`` (TaskSpecs): ``name``, default :data:`PHI_TASK`. ValueError saying
    what to pass (``option``: how the caller names the task) when the model has no such NER task."""
    name = name or PHI_TASK
    spec = next((t for t in tasks if t.name == name), None)
    ner = [t.name for t in tasks if t.kind == "ner"]
    if spec is None:
        raise ValueError(f"{where} has no PHI task {name!r} (its tasks: {', '.join(t.name for t in tasks) or '-'}): "
                         f"de-identify with a model trained on {PHI_TASK}, or pass {option} naming one of its NER "
                         f"tasks ({', '.join(ner) or 'it has none'})")
    if spec.kind != "ner":
        raise ValueError(f"{where}: task {name!r} is {spec.kind}, not NER; de-identification replaces entities: "
                         f"pass {option} naming one of its NER tasks ({', '.join(ner) or 'it has none'})")
    return name
