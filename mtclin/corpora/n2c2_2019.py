"""n2c2 2019 track 1 (clinical semantic textual similarity, Mayo Clinic notes), read from the n2c2 release.

Layout, anywhere under the root: ``clinicalSTS2019.train.txt`` (``sentence1\\tsentence2\\tscore`` per row),
``clinicalSTS2019.test.txt`` (``sentence1\\tsentence2``) and its gold ``clinicalSTS2019.test.gs.sim.txt`` (one
score per row, in the same row order). Where the official gold name is absent, the name others' code uses,
``clinicalSTS2019.test.labels.txt``, is read instead (with both present, the official one).

Decisions on format ambiguities:
- The files are tab-separated with CSV quoting (as measured on the real release): about half the sentences are
  wrapped in ``"..."``, a quote inside a quoted sentence is doubled (``""``). They are parsed as quoted TSV by
  :mod:`mtclin.corpora.tsv` (shared with the generic ``tsv-pairs`` format): an unquoted field keeps its ``"``
  characters; a quoted field may span lines; a row is located by the line it starts on; malformed quoting is a
  problem at that row.
- Rows end at ``\\n`` or ``\\r\\n`` (the release has CRLF); the last row may lack its line end. Blank rows at the
  end of a file are ignored; a blank row elsewhere is a problem, because test pairs and gold scores are matched
  by row. A BOM is dropped.
- Pair.id is ``"<split>-<line>"``, the 1-based line of the sentence file where the row starts; sentences are
  returned as stored (less their CSV quoting).
- Scores are finite floats in [0, 5] (``nan``/``inf`` are unparsable).
- If the test and gold files differ in row count, the test split is unusable (which score belongs to which
  pair is unknown) and is skipped whole in lenient mode, as it is when the gold file is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mtclin.corpora import tsv
from mtclin.corpora.files import find_file
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.registry import SPLITS, check_splits, register
from mtclin.corpora.types import Corpus, Example, Pair

TRAIN_FILE = "clinicalSTS2019.train.txt"
TEST_FILE = "clinicalSTS2019.test.txt"
GOLD_FILE = "clinicalSTS2019.test.gs.sim.txt"
GOLD_FILE_ALIAS = "clinicalSTS2019.test.labels.txt"  # the gold's name in others' code, not in the release
_FIELD_NAMES = {1: "score", 2: "sentence1, sentence2", 3: "sentence1, sentence2, score"}


@register("n2c2-2019", "sts", (), paper_order=1, sample="mtclin.corpora.samples.n2c2_2019:write")
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits of clinical STS under ``root`` into ``Pair(id, a, b, score)`` in row order.
    Raises CorpusFormatError on the first problem unless ``lenient``; in lenient mode a split that cannot be
    read (file or gold file absent, misaligned gold) is reported and returned empty."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    check_splits("n2c2-2019", splits, SPLITS)
    out: dict[str, list[Example]] = {}
    for split in splits:
        if split == "train":
            pairs = _read_train(root, log)
        else:
            pairs = _read_test(root, log)
        out[split] = list(pairs or [])
    return Corpus("n2c2-2019", "sts", (), out, log.problems)


def _read_train(root: Path, log: ProblemLog) -> list[Pair] | None:
    path = find_file(root, TRAIN_FILE, log)
    if path is None:
        log.report(root, "", f"split 'train': no {TRAIN_FILE} found under {root}")
        return None
    pairs: list[Pair] = []
    for row in tsv.rows(path, log) or []:
        fields = _fields(row, 3, path, log)
        score = None if fields is None else tsv.score(fields[2], path, row.line, log)
        if fields is not None and score is not None:
            pairs.append(Pair(f"train-{row.line}", fields[0], fields[1], score=score))
    return pairs


def _find_gold(root: Path, log: ProblemLog) -> Path | None:
    gold = find_file(root, GOLD_FILE, log)
    return gold if gold is not None else find_file(root, GOLD_FILE_ALIAS, log)


def _read_test(root: Path, log: ProblemLog) -> list[Pair] | None:
    path = find_file(root, TEST_FILE, log)
    if path is None:
        log.report(root, "", f"split 'test': no {TEST_FILE} found under {root}")
        return None
    gold_path = _find_gold(root, log)
    if gold_path is None:
        log.report(path, "", f"gold scores {GOLD_FILE} not found under {root} (nor {GOLD_FILE_ALIAS}); unpack "
                             "the test gold standard")
        return None
    rows = tsv.rows(path, log)
    gold = tsv.rows(gold_path, log) if rows is not None else None
    if rows is None or gold is None:  # unusable file, already reported
        return []
    if len(rows) != len(gold):
        log.report(path, "", f"{log.relative(path)} has {len(rows)} rows but {log.relative(gold_path)} has "
                             f"{len(gold)}; scores are matched to pairs by row")
        return None
    pairs = []
    for row, gold_row in zip(rows, gold):
        fields = _fields(row, 2, path, log)
        gold_fields = _fields(gold_row, 1, gold_path, log)
        score = None if gold_fields is None else tsv.score(gold_fields[0], gold_path, gold_row.line, log)
        if fields is not None and score is not None:
            pairs.append(Pair(f"test-{row.line}", fields[0], fields[1], score=score))
    return pairs


def _fields(row: tsv.Row, expected: int, path: Path, log: ProblemLog) -> list[str] | None:
    """The fields of a row, or None after reporting a wrong count or an empty sentence (or when the row's
    quoting was malformed, already reported)."""
    fields = row.fields
    if fields is None:
        return None
    what = "a score" if expected == 1 else f"{expected} tab-separated fields"
    if not "".join(fields).strip():
        log.report(path, row.line, f"blank line (expected {what})")
        return None
    if len(fields) != expected:
        span = "" if row.last_line == row.line else (
            f"; a quoted field runs from line {row.line} to line {row.last_line}: check for an unbalanced quote")
        log.report(path, row.line, f"{len(fields)} tab-separated fields, expected {expected} "
                                   f"({_FIELD_NAMES[expected]}){span}")
        return None
    for index in range(2 if expected > 1 else 0):  # the sentences; a gold row has none
        if not fields[index].strip():
            log.report(path, row.line, f"sentence{index + 1} is empty")
            return None
    return fields
