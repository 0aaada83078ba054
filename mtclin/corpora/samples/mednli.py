"""Sample MedNLI written in the PhysioNet release layout (``mli_{train,dev,test}_v1.jsonl`` with parse fields).

Each premise reports one finding and gets three hypotheses, one per label, as in MedNLI: entailment restates
the finding or names its organ-system category, contradiction negates it, neutral names a finding of another
category. Lines are shuffled within each file.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from mtclin.corpora.samples.clinical_pairs import (
    CATEGORIES, DRUGS, SYNONYMS, findings, other_category, with_canary,
)
from mtclin.corpora.samples.common import rng_for
from mtclin.corpora.types import Document, Pair

# PhysioNet's archive unpacks into this folder; the reader finds the files whatever the nesting
RELEASE_DIR = "mednli-a-natural-language-inference-dataset-for-the-clinical-domain-1.0.0"
PREMISES = {"mli_train_v1.jsonl": 67, "mli_dev_v1.jsonl": 13, "mli_test_v1.jsonl": 20}  # x3 pairs each

_PREMISES = (
    "{age} year old {sex} presented with {finding} and was started on {drug}.",
    "On admission the patient was noted to have {finding}.",
    "The patient reports {finding} for the past {days} days.",
    "Patient was admitted to the unit with {finding} and treated with {drug}.",
)
_HYPOTHESES = {
    "entailment": ("The patient has {term}.", "The patient has {synonym}.", "Patient has {finding}."),
    "contradiction": ("The patient has never had {finding}.", "The patient has never had {term}.",
                      "There is no evidence of {finding}."),
    "neutral": ("The patient has a history of {other}.", "The patient has {other_term}.",
                "There is a family history of {other}."),
}

# a small part-of-speech lexicon, enough for plausible Penn Treebank parses of the templates
_TAGS = {
    "the": "DT", "a": "DT", "an": "DT", "no": "DT", "patient": "NN", "has": "VBZ", "is": "VBZ", "reports": "VBZ",
    "was": "VBD", "presented": "VBD", "had": "VBN", "started": "VBN", "noted": "VBN", "admitted": "VBN",
    "treated": "VBN", "seen": "VBN", "have": "VB", "to": "TO", "with": "IN", "on": "IN", "of": "IN", "for": "IN",
    "in": "IN", "from": "IN", "and": "CC", "never": "RB", "not": "RB", "there": "EX", "old": "JJ", "past": "JJ",
    "year": "NN", "days": "NNS", "dr.": "NNP", ".": ".", "severe": "JJ", "acute": "JJ", "high": "JJ",
    "low": "JJ", "elevated": "JJ", "persistent": "JJ", "irregular": "JJ", "abnormal": "JJ", "weak": "JJ",
    "urinary": "JJ", "sudden": "JJ", "left": "JJ", "sided": "JJ", "bad": "JJ", "very": "RB", "noisy": "JJ",
    "neurologic": "JJ", "metabolic": "JJ", "loose": "JJ", "altered": "JJ", "mental": "JJ", "will": "MD",
    "go": "VB", "away": "RB", "that": "WDT", "family": "NN", "male": "NN", "female": "NN",
}


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the three .jsonl files under ``root``/RELEASE_DIR; return the gold pairs per split as the reader
    returns them (each split in line order)."""
    rng = rng_for("mednli", seed)
    folder = Path(root) / RELEASE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Pair]] = {}
    count = 0  # premises so far, to plant the canary at a fixed rhythm in every file
    for name, n in PREMISES.items():
        pairs: list[Pair] = []
        for _ in range(max(1, round(n * scale))):
            pairs.extend(_premise_pairs(rng, canary=count % 7 == 2))
            count += 1
        rng.shuffle(pairs)
        lines = [json.dumps(_record(pair)) for pair in pairs]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[name] = pairs
    return {"train": written["mli_train_v1.jsonl"], "dev": written["mli_dev_v1.jsonl"],
            "test": written["mli_test_v1.jsonl"]}


def _premise_pairs(rng: random.Random, *, canary: bool) -> list[Pair]:
    """Three pairs (one per label) sharing one premise."""
    finding, category = rng.choice(findings())
    premise = rng.choice(_PREMISES).format(
        age=rng.randint(19, 92), sex=rng.choice(("male", "female")), finding=finding, drug=rng.choice(DRUGS),
        days=rng.randint(2, 14))
    if canary:
        premise = with_canary(premise)
    other = other_category(rng, category)
    slots = {"finding": finding, "synonym": SYNONYMS[finding], "term": CATEGORIES[category][0],
             "other": rng.choice(CATEGORIES[other][1]), "other_term": CATEGORIES[other][0]}
    pairs = []
    for label, templates in _HYPOTHESES.items():
        hypothesis = rng.choice(templates).format(**slots)
        hypothesis = hypothesis[0].upper() + hypothesis[1:]
        pairs.append(Pair(_pair_id(rng), premise, hypothesis, label=label))
    return pairs


def _pair_id(rng: random.Random) -> str:
    """An id shaped like MedNLI's (version-1 UUIDs generated on one machine)."""
    return f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-11e7-{rng.getrandbits(16):04x}-f45c89b91419"


def _record(pair: Pair) -> dict[str, str]:
    """The JSON object of one line, keys in the release's order."""
    a_parse, a_binary = parses(pair.a)
    b_parse, b_binary = parses(pair.b)
    return {"sentence1": pair.a, "pairID": pair.id, "sentence1_parse": a_parse, "sentence1_binary_parse": a_binary,
            "sentence2": pair.b, "sentence2_parse": b_parse, "sentence2_binary_parse": b_binary,
            "gold_label": pair.label or ""}


def parses(sentence: str) -> tuple[str, str]:
    """A plausible (Penn Treebank parse, SNLI-style unlabelled binary parse) of a template sentence: subject NP,
    then a flat VP of verbs, NP and PP chunks, then the final period."""
    tokens = re.findall(r"Dr\.|[A-Za-z0-9]+|[^\sA-Za-z0-9]", sentence)
    tagged = [(_tag(token), token) for token in tokens]
    final = [tagged.pop()] if tagged and tagged[-1][1] == "." else []
    verb = next((i for i, (tag, _) in enumerate(tagged) if _heads_vp(tag)), len(tagged))
    subject, rest = tagged[:verb], tagged[verb:]
    vp: list = []
    i = 0
    while i < len(rest):
        tag, word = rest[i]
        if _heads_vp(tag) or tag in _NOT_NP:
            vp.append((tag, word))
            i += 1
            continue
        start = i + 1 if tag == "IN" else i
        end = start
        while end < len(rest) and not (_heads_vp(rest[end][0]) or rest[end][0] in _NOT_NP or rest[end][0] == "IN"):
            end += 1
        np_ = ("NP", rest[start:end])
        vp.append(("PP", [(tag, word), np_]) if tag == "IN" else np_)
        i = end
    tree = ("ROOT", [("S", [("NP", subject)] * bool(subject) + [("VP", vp)] * bool(vp) + final)])
    return _bracket(tree), _binary(tree)


_NOT_NP = frozenset(("RB", "CC", ".", "TO", "WDT"))  # tags that end a noun chunk inside the VP


def _heads_vp(tag: str) -> bool:
    return tag.startswith("VB") or tag == "MD"


def _tag(token: str) -> str:
    if token.isdigit():
        return "CD"
    return _TAGS.get(token.lower(), "NNP" if token[0].isupper() else "NN")


def _bracket(node) -> str:
    label, children = node
    if isinstance(children, str):
        return f"({label} {children})"
    return f"({label} {' '.join(_bracket(child) for child in children if child[1])})"


def _binary(node) -> str:
    """Right-branching binarisation without labels, e.g. ``( ( The patient ) ( has fever ) )``."""
    label, children = node
    if isinstance(children, str):
        return children
    parts = [_binary(child) for child in children if not (isinstance(child[1], list) and not child[1])]
    if len(parts) == 1:
        return parts[0]
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = f"( {part} {out} )"
    return out
