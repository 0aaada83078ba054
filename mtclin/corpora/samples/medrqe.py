"""Sample MedRQE written in the NLM release layout (``RQE_Train_8588_AMIA2016.xml``, ``RQE_Test_302_pairs_...``).

A consumer health question (chq: long, informal, several sentences) asks one thing (treatment, cause, symptoms,
outlook, side effects) about one condition or drug. Its "true" FAQ is a short question asking the same thing
about the same condition; its "false" FAQ is a random other short question (``originalQ-shortRandQ``), as in the
release. About 54% of pairs are true. Quirks of the real file are reproduced: text wrapped in ``\\n   …\\n``,
trailing blanks, ``<``/``>`` escaped twice, a trailing space after some ``<pair …>`` tags, and one pair whose
FAQ is blank (like training pair 5860).
"""

from __future__ import annotations

import random
from pathlib import Path

from mtclin.corpora.samples.clinical_pairs import DRUGS, RELATIVES
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.types import Document, Pair

FILES = {"train": ("RQE_Train_8588_AMIA2016.xml", "RQE-med-train", 240),
         "test": ("RQE_Test_302_pairs_AMIA2016.xml", "RQE-med-test", 60)}
FALSE_RATE = 3933 / 4655  # chqs that also get a random FAQ, giving the release's 54% true

CONDITIONS = ("diabetes", "asthma", "high blood pressure", "psoriasis", "migraine", "gout", "shingles",
              "anemia", "glaucoma", "kidney stones", "atrial fibrillation", "lupus", "celiac disease",
              "osteoporosis", "sleep apnea", "hepatitis C")
# intent -> (short FAQ templates, informal ways a consumer asks it)
INTENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "treatment": (("What are the treatments for {topic}?", "How is {topic} treated?"),
                  ("What can be done to treat {topic}?", "Is there anything that helps with {topic}?")),
    "cause": (("What causes {topic}?", "What are the causes of {topic}?"),
              ("Why did this happen, what causes {topic}?", "Could something we did cause {topic}?")),
    "symptoms": (("What are the symptoms of {topic}?", "What are the signs of {topic}?"),
                 ("What symptoms of {topic} should we watch for?", "How do I know if the {topic} gets worse?")),
    "outlook": (("What is the outlook for {topic}?", "Can {topic} be cured?"),
                ("Will the {topic} ever go away?", "What is the long term outlook with {topic}?")),
    "side effects": (("What are the side effects of {topic}?", "Is {topic} safe?"),
                     ("Are there side effects from {topic} I should know about?",
                      "Is it safe to keep taking {topic}?")),
}
_OPENINGS = ("Hi,", "Hello.", "Good morning.", "Please help.", "I need some advice.")
_CONTEXT = ("My {relative} was diagnosed with {condition} {n} years ago.",
            "My {relative} has had {condition} for a while now and was put on {drug}.",
            "I am {age} and my doctor told me I have {condition}.",
            "My {relative} is {age} years old, has {condition} and blood sugar >{sugar} last week.")
_CLOSINGS = ("Thank you.", "Thanks in advance.", "Any information would be appreciated.", "")


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write both XML files under ``root``; return the gold pairs per split in file order, as the reader
    returns them (questions stripped, double escapes undone)."""
    rng = rng_for("medrqe", seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    gold: dict[str, list[Document | Pair]] = {}
    for split, (name, root_tag, n) in FILES.items():
        target = max(2, round(n * scale))
        pairs: list[Pair] = []
        chqs = 0
        while len(pairs) < target:
            pairs.extend(_chq_pairs(rng, len(pairs) + 1, canary=chqs % 9 == 4))
            chqs += 1
        pairs = pairs[:target]
        if split == "train":  # the release's pair 5860: a true pair whose FAQ is blank
            blank = len(pairs) // 2 if pairs[len(pairs) // 2].label == "true" else len(pairs) // 2 - 1
            pairs[blank] = Pair(pairs[blank].id, pairs[blank].a, "", label="true")
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{root_tag}>"]
        for pair in pairs:
            lines.extend(_pair_xml(rng, pair))
        lines.append(f"</{root_tag}>")
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        gold[split] = list(pairs)
    return gold


def _chq_pairs(rng: random.Random, pid: int, *, canary: bool) -> list[Pair]:
    """A consumer question with its true FAQ and, most of the time, a random false FAQ; pids from ``pid``."""
    intent = rng.choice(list(INTENTS))
    condition = rng.choice(CONDITIONS)
    topic = rng.choice(DRUGS) if intent == "side effects" else condition
    faqs, asks = INTENTS[intent]
    sentences = [rng.choice(_OPENINGS), rng.choice(_CONTEXT).format(
        relative=rng.choice(RELATIVES), condition=condition, drug=rng.choice(DRUGS), n=rng.randint(2, 15),
        age=rng.randint(20, 85), sugar=rng.randint(200, 400))]
    if canary:
        sentences.append(f"Our family doctor is Dr. {CANARY}.")
    sentences += [rng.choice(asks).format(topic=topic), rng.choice(_CLOSINGS)]
    chq = "  ".join(sentence for sentence in sentences if sentence)  # the release puts two spaces between
    pairs = [Pair(str(pid), chq, rng.choice(faqs).format(topic=topic), label="true")]
    if rng.random() < FALSE_RATE:
        other_intent = rng.choice(list(INTENTS))
        other = rng.choice(DRUGS) if other_intent == "side effects" else rng.choice(CONDITIONS)
        while other == topic:
            other = rng.choice(CONDITIONS)
        faq = rng.choice(INTENTS[other_intent][0]).format(topic=other)
        pairs.append(Pair(str(pid + 1), chq, faq, label="false"))
    return pairs


def _pair_xml(rng: random.Random, pair: Pair) -> list[str]:
    """The lines of one ``<pair>`` element, laid out like the release."""
    kind = "originalQ-shortQ" if pair.label == "true" else "originalQ-shortRandQ"
    tag_end = " " if rng.random() < 0.05 else ""
    lines = [f'<pair pid="{pair.id}" type="{kind}" value="{pair.label}">{tag_end}']
    for tag, text in (("chq", pair.a), ("faq", pair.b)):
        trailing = rng.choice(("", "", "", "", " ", "  "))
        lines += [f"<{tag}>", f"   {_escape(text)}{trailing}" if text else "   ", f"</{tag}>"]
    lines.append("</pair>")
    return lines


def _escape(text: str) -> str:
    """Escape as the release does: ``&`` once, ``<`` and ``>`` twice (``&amp;gt;``)."""
    return text.replace("&", "&amp;").replace("<", "&amp;lt;").replace(">", "&amp;gt;")
