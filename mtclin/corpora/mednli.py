"""MedNLI (Romanov & Shivade 2018): clinical natural language inference, read from the PhysioNet release.

Layout: ``mli_train_v1.jsonl``, ``mli_dev_v1.jsonl``, ``mli_test_v1.jsonl`` anywhere under the root; one JSON object
per line with ``pairID``, ``sentence1``, ``sentence2``, ``gold_label`` and parse fields (ignored here). Splits
``train``, ``dev`` and ``test`` are the three files, each in file order (the paper trained on train+dev: training
with ``selection: paper`` merges them). A missing dev file leaves ``dev`` empty (preprocessing then carves one).

Decisions on format ambiguities:
- Lines are read by :mod:`mtclin.corpora.jsonl` (shared with the generic ``jsonl-pairs`` format): blank lines are
  skipped wherever they are, a BOM is dropped, a line that is not a JSON object is a problem at that line.
- Sentences are returned exactly as stored (no stripping); a whitespace-only sentence is a problem.
- ``gold_label`` must be one of the three labels exactly (SNLI's ``-`` "no consensus" marker is unknown here).
- ``pairID`` must be unique within a split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora import jsonl
from mtclin.corpora.files import find_file
from mtclin.corpora.problems import ProblemLog, shown
from mtclin.corpora.registry import DEV, check_splits, register
from mtclin.corpora.types import Corpus, Example, Pair

LABELS: tuple[str, ...] = ("contradiction", "entailment", "neutral")
# split -> the official files that make it up, in reading order
FILES: dict[str, tuple[str]] = {
    "train": ("mli_train_v1.jsonl",),
    DEV: ("mli_dev_v1.jsonl",),
    "test": ("mli_test_v1.jsonl",),
}
FIELDS: tuple[str, ...] = ("pairID", "sentence1", "sentence2", "gold_label")


@register("mednli", "nli", LABELS, splits=tuple(FILES), paper_order=2,
          sample="mtclin.corpora.samples.mednli:write")
def read(root: Path, *, splits: Sequence[str] = tuple(FILES), lenient: bool = False) -> Corpus:
    """Read the requested splits of MedNLI under ``root`` into ``Pair(id=pairID, a=sentence1, b=sentence2,
    label=gold_label)``. Raises CorpusFormatError on the first problem unless ``lenient``; in lenient mode a
    split without its file is reported and returned empty (``dev`` without its file: empty, no problem)."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    out: dict[str, list[Example]] = {}
    check_splits("mednli", splits, tuple(FILES))
    for split in splits:
        (name,) = FILES[split]
        path = find_file(root, name, log)
        out[split] = _read_file(path, log, {}) if path is not None else []
        if path is None and split != DEV:
            log.report(root, "", f"split {split!r}: no {name} found under {root}")
    return Corpus("mednli", "nli", LABELS, out, log.problems)


def _read_file(path: Path, log: ProblemLog, seen: dict[str, str]) -> list[Pair]:
    """The pairs of one .jsonl file, in line order. ``seen`` maps pairIDs already read in this split to
    ``"file line N"`` and is updated."""
    pairs: list[Pair] = []
    for number, record in jsonl.records(path, log):
        pair = _pair(record, path, number, log)
        if pair is None:
            continue
        where = f"{log.relative(path)} line {number}"
        if pair.id in seen:
            log.report(path, number, f"duplicate pairID {pair.id!r} (first at {seen[pair.id]})")
            continue
        seen[pair.id] = where
        pairs.append(pair)
    return pairs


def _pair(record: dict, path: Path, number: int, log: ProblemLog) -> Pair | None:
    """One JSON record as a Pair, or None after reporting why it is unusable (messages never quote sentences)."""
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
        log.report(path, number, f"pair {pair_id!r}: unknown gold_label {shown(label)}; "
                                 f"expected one of {', '.join(LABELS)}")
        return None
    for name in ("sentence1", "sentence2"):
        if not record[name].strip():
            log.report(path, number, f"pair {pair_id!r}: {name} is empty")
            return None
    return Pair(pair_id, record["sentence1"], record["sentence2"], label=label)
