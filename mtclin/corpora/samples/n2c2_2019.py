"""Sample clinical STS (n2c2 2019 track 1) written in the release layout: ``clinicalSTS2019.train.txt``,
``clinicalSTS2019.test.txt`` and the gold ``clinicalSTS2019.test.gs.sim.txt``.

Every sentence is a template family filled with three slots. Similarity is graded overlap: the same slots
reworded by another template of the family score 5, each changed slot costs one point (4, 3, 2), and a sentence
of another family is unrelated (0-1). Scores get +-0.5 annotator noise and one decimal, like the release.

Written as the release is: tab-separated with CSV quoting, about half the sentences wrapped in ``"..."`` (every
one that holds a quote, which is then doubled: some sentences quote what the patient said), CRLF line ends and
no newline after the last line of the test and gold files. The train file keeps a final CRLF so that a line
appended to it (as the pipeline tests do to change the data) stays a row of its own.
"""

from __future__ import annotations

import random
from pathlib import Path

from mtclin.corpora.samples.clinical_pairs import DOSES, DRUGS, FREQUENCIES, findings, with_canary
from mtclin.corpora.samples.common import rng_for
from mtclin.corpora.types import Document, Pair

TRAIN_FILE, TEST_FILE, GOLD_FILE = "clinicalSTS2019.train.txt", "clinicalSTS2019.test.txt", \
    "clinicalSTS2019.test.gs.sim.txt"
PAIRS = {"train": 240, "test": 60}

_TOPICS = ("diet", "exercise", "fall prevention", "smoking cessation", "medication safety", "wound care",
           "blood pressure monitoring", "signs of infection")
_ROLES = ("nursing", "the pharmacist", "the dietitian", "the physician", "physical therapy")
_WHEN = ("yesterday", "last week", "this morning", "two days ago", "the weekend")
# family -> (slot -> values, templates that all say the same thing)
FAMILIES: dict[str, tuple[dict[str, tuple[str, ...]], tuple[str, ...]]] = {
    "medication": ({"drug": DRUGS, "dose": DOSES, "freq": FREQUENCIES},
                   ("{drug} {dose} mg tablet by mouth {freq}.", "Take {drug} {dose} mg by mouth {freq}.",
                    "Patient was instructed to take {drug} {dose} mg {freq}.")),
    "symptom": ({"first": tuple(f for f, _ in findings()), "second": tuple(f for f, _ in findings()),
                 "when": _WHEN},
                ("Patient reports {first} and {second} since {when}.",
                 "The patient complains of {first} and {second}, which started {when}.",
                 "Since {when} the patient has had {first} along with {second}.")),
    "education": ({"topic": _TOPICS, "topic2": _TOPICS, "role": _ROLES},
                  ("Patient was educated about {topic} and {topic2} by {role}.",
                   "Education on {topic} and {topic2} was provided by {role}.",
                   "Teaching regarding {topic} and {topic2} was completed with {role}.")),
}
_LEVELS = (5, 4, 3, 2, 0)  # 5 - number of changed slots; 0 = another family


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the three files under ``root``; return the gold pairs per split in line order (ids
    ``"<split>-<line>"``), as the reader returns them."""
    rng = rng_for("n2c2-2019", seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    gold: dict[str, list[Document | Pair]] = {}
    for split, n in PAIRS.items():
        pairs = []
        for index in range(max(1, round(n * scale))):
            a, b, score = _pair(rng)
            if index % 12 == 5:
                a = with_canary(a)
            if index % 10 == 3:
                a = f'{a} Patient said "understood".'
            pairs.append(Pair(f"{split}-{index + 1}", a, b, score=score))
        gold[split] = list(pairs)
        # rows cycle through: both sentences quoted, sentence1 only, neither, sentence2 only
        sentences = [f"{_quoted(p.a, i % 4 < 2)}\t{_quoted(p.b, i % 4 in (0, 3))}" for i, p in enumerate(pairs)]
        if split == "train":
            _write_lines(root / TRAIN_FILE, [f"{row}\t{p.score:.1f}" for row, p in zip(sentences, pairs)], "\r\n")
        else:
            _write_lines(root / TEST_FILE, sentences)
            _write_lines(root / GOLD_FILE, [f"{p.score:.1f}" for p in pairs])
    return gold


def _quoted(sentence: str, quote: bool) -> str:
    """The sentence as a CSV field: quoted (a quote inside doubled) when ``quote`` or when it holds a quote."""
    if quote or '"' in sentence:
        return '"' + sentence.replace('"', '""') + '"'
    return sentence


def _write_lines(path: Path, lines: list[str], end: str = "") -> None:
    # CRLF line ends, none after the last line unless ``end`` (the release has none)
    path.write_bytes(("\r\n".join(lines) + end).encode("utf-8"))


def _pair(rng: random.Random) -> tuple[str, str, float]:
    """Two sentences and their similarity: a multiple of 0.5 in [0, 5]."""
    family = rng.choice(list(FAMILIES))
    slots = _fill(rng, family, {})
    level = rng.choice(_LEVELS)
    if level == 0:
        other = rng.choice([name for name in FAMILIES if name != family])
        b, base = _sentence(rng, other, _fill(rng, other, {})), 0.5
    else:
        changed = rng.sample(sorted(slots), 5 - level)
        b, base = _sentence(rng, family, _fill(rng, family, slots, changed)), float(level)
    a = _sentence(rng, family, slots)
    if level == 5:
        while b == a:  # a paraphrase is reworded: another template of the family
            b = _sentence(rng, family, slots)
    score = min(5.0, max(0.0, base + rng.choice((-0.5, 0.0, 0.0, 0.5))))
    return a, b, score


def _fill(rng: random.Random, family: str, keep: dict[str, str], changed: list[str] | None = None) -> dict[str, str]:
    """Slot values: those of ``keep`` except the ``changed`` ones, which get a different value; new draws where
    ``keep`` is empty. Two slots of one sentence never repeat a value."""
    options, _ = FAMILIES[family]
    slots = dict(keep)
    for name in options if not keep else (changed or []):
        choices = [value for value in options[name] if value != keep.get(name) and value not in slots.values()]
        slots[name] = rng.choice(choices)
    return slots


def _sentence(rng: random.Random, family: str, slots: dict[str, str]) -> str:
    text = rng.choice(FAMILIES[family][1]).format(**slots)
    return text[0].upper() + text[1:]
