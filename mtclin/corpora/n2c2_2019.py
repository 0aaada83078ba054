"""n2c2 2019 track 1 (clinical semantic textual similarity, Mayo Clinic notes), read from the n2c2 release.

Layout, anywhere under the root: ``clinicalSTS2019.train.txt`` (``sentence1\\tsentence2\\tscore`` per line),
``clinicalSTS2019.test.txt`` (``sentence1\\tsentence2``) and its gold ``clinicalSTS2019.test.gs.sim.txt`` (one
score per line, in the same line order).

Decisions on format ambiguities:
- Lines are split on tabs only, with no quoting: sentences may hold quote characters (csv would misread them).
- Lines end at ``\\n``; a trailing ``\\r`` (CRLF files) is dropped. Blank lines at the end of a file are ignored;
  a blank line elsewhere is a problem, because test sentences and gold scores are matched by line number.
- Pair.id is ``"<split>-<line>"``, the 1-based line of the sentence file; sentences are returned as stored.
- Scores are finite floats in [0, 5] (``nan``/``inf`` are unparsable).
- If the test and gold files differ in line count, the test split is unusable (which score belongs to which
  pair is unknown) and is skipped whole in lenient mode, as it is when the gold file is missing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from mtclin.corpora.files import find_file
from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.registry import SPLITS, register
from mtclin.corpora.types import Corpus, Example, Pair

TRAIN_FILE = "clinicalSTS2019.train.txt"
TEST_FILE = "clinicalSTS2019.test.txt"
GOLD_FILE = "clinicalSTS2019.test.gs.sim.txt"
MAX_SCORE = 5.0


@register("n2c2-2019", "sts", ())
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits of clinical STS under ``root`` into ``Pair(id, a, b, score)`` in line order.
    Raises CorpusFormatError on the first problem unless ``lenient``; in lenient mode a split that cannot be
    read (file or gold file absent, misaligned gold) is reported and returned empty."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    out: dict[str, list[Example]] = {}
    for split in splits:
        if split == "train":
            pairs = _read_train(root, log)
        elif split == "test":
            pairs = _read_test(root, log)
        else:
            raise ValueError(f"unknown split {split!r} for n2c2-2019; known: train, test")
        out[split] = list(pairs or [])
    return Corpus("n2c2-2019", "sts", (), out, log.problems)


def _read_train(root: Path, log: ProblemLog) -> list[Pair] | None:
    path = find_file(root, TRAIN_FILE, log)
    if path is None:
        log.report(root, "", f"split 'train': no {TRAIN_FILE} found under {root}")
        return None
    pairs: list[Pair] = []
    for number, line in _lines(path, log) or []:
        fields = _fields(line, 3, path, number, log)
        score = None if fields is None else _score(fields[2], path, number, log)
        if fields is not None and score is not None:
            pairs.append(Pair(f"train-{number}", fields[0], fields[1], score=score))
    return pairs


def _read_test(root: Path, log: ProblemLog) -> list[Pair] | None:
    path = find_file(root, TEST_FILE, log)
    if path is None:
        log.report(root, "", f"split 'test': no {TEST_FILE} found under {root}")
        return None
    gold_path = find_file(root, GOLD_FILE, log)
    if gold_path is None:
        log.report(path, "", f"gold scores {GOLD_FILE} not found under {root}; unpack the test gold standard")
        return None
    lines = _lines(path, log)
    gold = _lines(gold_path, log) if lines is not None else None
    if lines is None or gold is None:  # unusable file, already reported
        return []
    if len(lines) != len(gold):
        log.report(path, "", f"{log.relative(path)} has {len(lines)} lines but {log.relative(gold_path)} has "
                             f"{len(gold)}; scores are matched to pairs by line")
        return None
    pairs = []
    for (number, line), (_, score_text) in zip(lines, gold):
        fields = _fields(line, 2, path, number, log)
        score = _score(score_text, gold_path, number, log)
        if fields is not None and score is not None:
            pairs.append(Pair(f"test-{number}", fields[0], fields[1], score=score))
    return pairs


def _lines(path: Path, log: ProblemLog) -> list[tuple[int, str]] | None:
    """(1-based line number, line without its ending) for every line before the trailing blank ones; blank
    lines in between are kept so the caller reports them. None where the file is unusable (reported)."""
    text = read_text(path, log)
    if text is None:
        return None
    # a BOM would end up in the first sentence (or make the first gold score unparsable): drop it
    lines = [line[:-1] if line.endswith("\r") else line for line in text.removeprefix("\ufeff").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return list(enumerate(lines, start=1))


def _fields(line: str, expected: int, path: Path, number: int, log: ProblemLog) -> list[str] | None:
    """The tab-separated fields of a line, or None after reporting a wrong count or an empty sentence."""
    fields = line.split("\t")
    if not line.strip():
        log.report(path, number, f"blank line (expected {expected} tab-separated fields)")
        return None
    if len(fields) != expected:
        log.report(path, number, f"{len(fields)} tab-separated fields, expected {expected} "
                                 f"({'sentence1, sentence2, score' if expected == 3 else 'sentence1, sentence2'})")
        return None
    for index in (0, 1):
        if not fields[index].strip():
            log.report(path, number, f"sentence{index + 1} is empty")
            return None
    return fields


def _score(text: str, path: Path, number: int, log: ProblemLog) -> float | None:
    """The similarity score of a field, or None after reporting it unparsable or outside [0, 5]."""
    if not text.strip():
        log.report(path, number, "blank line (expected a score)")
        return None
    try:
        score = float(text)
    except ValueError:
        log.report(path, number, f"score is not a number (field of {len(text)} characters)")
        return None
    if not math.isfinite(score):
        log.report(path, number, "score is not a finite number")
        return None
    if not 0.0 <= score <= MAX_SCORE:
        log.report(path, number, f"score {score} outside [0, {MAX_SCORE:g}]")
        return None
    return score
