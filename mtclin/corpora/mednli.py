"""MedNLI (Romanov & Shivade 2018): clinical natural language inference, read from the PhysioNet release.

Layout: ``mli_train_v1.jsonl``, ``mli_dev_v1.jsonl``, ``mli_test_v1.jsonl`` anywhere under the root; one JSON object
per line with ``pairID``, ``sentence1``, ``sentence2``, ``gold_label`` and parse fields (ignored here). The paper
trained on train+dev, so split ``train`` is both files (train first, then dev, each in file order).

Decisions on format ambiguities:
- Blank (whitespace-only) lines are skipped silently wherever they are: they carry no pair, and a truncated or
  broken record still shows up as invalid JSON on its own line.
- Sentences are returned exactly as stored (no stripping); a whitespace-only sentence is a problem.
- ``gold_label`` must be one of the three labels exactly (SNLI's ``-`` "no consensus" marker is unknown here).
- ``pairID`` must be unique across the files of a split (train and dev together).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from mtclin.corpora.files import find_file
from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.registry import SPLITS, register
from mtclin.corpora.types import Corpus, Example, Pair

LABELS: tuple[str, ...] = ("contradiction", "entailment", "neutral")
# split -> the official files that make it up, in reading order
FILES: dict[str, tuple[str, ...]] = {
    "train": ("mli_train_v1.jsonl", "mli_dev_v1.jsonl"),
    "test": ("mli_test_v1.jsonl",),
}
FIELDS: tuple[str, ...] = ("pairID", "sentence1", "sentence2", "gold_label")


@register("mednli", "nli", LABELS)
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits of MedNLI under ``root`` into ``Pair(id=pairID, a=sentence1, b=sentence2,
    label=gold_label)``. Raises CorpusFormatError on the first problem unless ``lenient``; in lenient mode a
    split with none of its files is reported and returned empty."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    out: dict[str, list[Example]] = {}
    for split in splits:
        if split not in FILES:
            raise ValueError(f"unknown split {split!r} for mednli; known: {', '.join(FILES)}")
        paths = {name: find_file(root, name, log) for name in FILES[split]}
        missing = [name for name, path in paths.items() if path is None]
        out[split] = []
        if len(missing) == len(paths):
            log.report(root, "", f"split {split!r}: no {' or '.join(FILES[split])} found under {root}")
            continue
        if missing:
            # the paper's training set is train+dev: a half split would silently shrink it
            log.report(root, "", f"split {split!r}: {', '.join(missing)} not found under {root} "
                                 f"(the split is {' + '.join(FILES[split])})")
        seen: dict[str, str] = {}
        out[split] += [pair for path in paths.values() if path is not None for pair in _read_file(path, log, seen)]
    return Corpus("mednli", "nli", LABELS, out, log.problems)


def _read_file(path: Path, log: ProblemLog, seen: dict[str, str]) -> list[Pair]:
    """The pairs of one .jsonl file, in line order. ``seen`` maps pairIDs already read in this split to
    ``"file line N"`` and is updated."""
    text = read_text(path, log)
    if text is None:
        return []
    pairs: list[Pair] = []
    text = text.removeprefix("\ufeff")  # a BOM before the first record (RFC 8259 lets parsers ignore it)
    # split on "\n" only: str.splitlines would also break at U+2028, which JSON allows raw inside strings
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        pair = _parse_line(line, path, number, log)
        if pair is None:
            continue
        where = f"{log.relative(path)} line {number}"
        if pair.id in seen:
            log.report(path, number, f"duplicate pairID {pair.id!r} (first at {seen[pair.id]})")
            continue
        seen[pair.id] = where
        pairs.append(pair)
    return pairs


def _parse_line(line: str, path: Path, number: int, log: ProblemLog) -> Pair | None:
    """One JSON line as a Pair, or None after reporting why it is unusable (messages never quote sentences)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        log.report(path, f"line {number} (column {err.colno})", f"invalid JSON: {err.msg}")
        return None
    if not isinstance(record, dict):
        log.report(path, number, f"expected a JSON object, got {type(record).__name__}")
        return None
    missing = [name for name in FIELDS if name not in record]
    if missing:
        log.report(path, number, f"missing field(s) {', '.join(missing)}")
        return None
    not_text = [name for name in FIELDS if not isinstance(record[name], str)]
    if not_text:
        log.report(path, number, f"field(s) {', '.join(not_text)} must be strings")
        return None
    pair_id, label = record["pairID"], record["gold_label"]
    if not pair_id.strip():
        log.report(path, number, "empty pairID")
        return None
    if label not in LABELS:
        log.report(path, number, f"pair {pair_id!r}: unknown gold_label {label[:40]!r}; "
                                 f"expected one of {', '.join(LABELS)}")
        return None
    for name in ("sentence1", "sentence2"):
        if not record[name].strip():
            log.report(path, number, f"pair {pair_id!r}: {name} is empty")
            return None
    return Pair(pair_id, record["sentence1"], record["sentence2"], label=label)
