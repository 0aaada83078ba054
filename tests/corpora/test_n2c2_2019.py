from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Pair, corpus_info
from mtclin.corpora.n2c2_2019 import read
from mtclin.corpora.samples import n2c2_2019 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURE = Path(__file__).parent / "fixtures" / "n2c2-2019"
DIR = "n2c2_2019_track1"
TRAIN, TEST, GOLD = "clinicalSTS2019.train.txt", "clinicalSTS2019.test.txt", "clinicalSTS2019.test.gs.sim.txt"
SECRET = "Zyxwvut was seen in clinic"  # stands for note text: must never reach a message

GOLD_TRAIN = [
    # quotes are plain characters (no csv quoting)
    Pair("train-1", 'Patient was instructed to take "Tylenol" 500 mg as needed.',
         "Take acetaminophen 500 mg by mouth as needed.", score=4.5),
    Pair("train-2", "Lungs clear to auscultation bilaterally.", "The patient ate breakfast.", score=0.0),
    # CRLF ending dropped, leading blank of the sentence kept, integer score read as float
    Pair("train-3", " Discussed plan with patient's wife.", "Discussed the plan with his wife.", score=5.0),
]
GOLD_TEST = [
    Pair("test-1", "Ibuprofen 200 mg tablet every 6 hours.", "Ibuprofen 400 mg tablet every 8 hours.", score=3.5),
    Pair("test-2", "Negative for fever, chills.", "Patient denies fever or chills and night sweats.", score=2.75),
]


def _root(tmp_path: Path, file: str | None = None, line: str | None = None) -> Path:
    """A copy of the fixture; ``line`` replaces line 2 of ``file``."""
    root = tmp_path / "data"
    shutil.copytree(FIXTURE, root)
    if file is not None and line is not None:
        path = root / DIR / file
        lines = path.read_bytes().decode("utf-8").split("\n")
        lines[1] = line
        path.write_bytes("\n".join(lines).encode("utf-8"))
    return root


def test_registered_as_sts() -> None:
    info = corpus_info("n2c2-2019")
    assert (info.kind, info.labels, info.read) == ("sts", (), read)


def test_golden_fixture() -> None:
    corpus = read(FIXTURE)
    assert corpus.splits == {"train": GOLD_TRAIN, "test": GOLD_TEST}
    assert corpus.problems == [] and (corpus.name, corpus.kind) == ("n2c2-2019", "sts")


@pytest.mark.parametrize("seed", [0, 4])
def test_sample_sizes_scores_and_canary(tmp_path: Path, seed: int) -> None:
    gold = sample.write(tmp_path, seed=seed)  # read back exactly: tests/corpora/test_contract.py
    assert (len(gold["train"]), len(gold["test"])) == (240, 60)
    scores = [pair.score for pair in gold["train"] if pair.score is not None]
    assert len(scores) == 240 and min(scores) == 0.0 and max(scores) == 5.0
    assert len(set(scores)) >= 8  # graded, not binary
    assert all(any(CANARY in pair.a for pair in gold[split]) for split in ("train", "test"))
    for line in (tmp_path / TRAIN).read_text(encoding="utf-8").splitlines():
        assert line.count("\t") == 2 and len(line.rsplit("\t", 1)[1].split(".")[1]) == 1  # one decimal


def test_sample_is_quoted_tsv_with_crlf_like_the_release(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, seed=0)
    for file, split in ((TEST, "test"), (GOLD, "test")):  # no line end after the last line
        raw = (tmp_path / file).read_bytes()
        assert not raw.endswith(b"\n") and raw.count(b"\r\n") == len(gold[split]) - 1
        assert b"\n" not in raw.replace(b"\r\n", b"")
    raw = (tmp_path / TRAIN).read_bytes()  # ends in CRLF: a line appended to it stays a row of its own
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(gold["train"]) == raw.count(b"\n")
    fields = [field for line in raw.decode().split("\r\n")[:-1] for field in line.split("\t")[:2]]
    quoted = [field for field in fields if field.startswith('"') and field.endswith('"')]
    assert 0.4 < len(quoted) / len(fields) < 0.6  # about half, as in the release
    assert any('""understood""' in field for field in quoted)
    assert not any('"' in field for field in fields if field not in quoted)
    pairs = [pair for pair in gold["train"] if isinstance(pair, Pair)]
    assert any(pair.a.endswith('said "understood".') for pair in pairs)  # read back without the CSV quoting
    assert not any(pair.a.startswith('"') or pair.b.startswith('"') for pair in pairs)


def test_sample_scores_follow_token_overlap(tmp_path: Path) -> None:
    def overlap(pair: Pair) -> float:
        a, b = set(pair.a.lower().split()), set(pair.b.lower().split())
        return len(a & b) / len(a | b)

    pairs = sample.write(tmp_path, seed=0)["train"]
    high = [overlap(p) for p in pairs if isinstance(p, Pair) and p.score is not None and p.score >= 4]
    low = [overlap(p) for p in pairs if isinstance(p, Pair) and p.score is not None and p.score <= 1]
    assert high and low and sum(high) / len(high) > 2 * sum(low) / len(low)


BAD_LINES = {
    "two fields in train": (TRAIN, f"{SECRET}.\t4.0", "2 tab-separated fields, expected 3"),
    "four fields in train": (TRAIN, f"{SECRET}.\tb\t4.0\t1", "4 tab-separated fields, expected 3"),
    "three fields in test": (TEST, f"{SECRET}.\tb\t4.0", "3 tab-separated fields, expected 2"),
    "unparsable score": (TRAIN, f"a\t{SECRET}.\t{SECRET}", "score is not a number"),
    "nan score": (TRAIN, f"{SECRET}.\tb\tnan", "score is not a finite number"),
    "score above 5": (TRAIN, f"{SECRET}.\tb\t5.5", "score 5.5 outside [0, 5]"),
    "negative score": (TRAIN, f"{SECRET}.\tb\t-0.5", "score -0.5 outside [0, 5]"),
    "bad gold score": (GOLD, "high", "score is not a number"),
    "empty sentence1": (TRAIN, f" \t{SECRET}.\t3.0", "sentence1 is empty"),
    "empty sentence2": (TEST, f"{SECRET}.\t", "sentence2 is empty"),
    "blank line inside": (TRAIN, "", "blank line (expected 3 tab-separated fields)"),
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_bad_line_strict_names_file_and_line(tmp_path: Path, kind: str) -> None:
    file, line, message = BAD_LINES[kind]
    with pytest.raises(CorpusFormatError) as err:
        read(_root(tmp_path, file, line))
    assert f"{DIR}/{file}:line 2: {message}" in str(err.value)
    assert "Zyxwvut" not in str(err.value)


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_bad_line_lenient_skips_only_that_pair(tmp_path: Path, kind: str) -> None:
    file = BAD_LINES[kind][0]
    corpus = read(_root(tmp_path, file, BAD_LINES[kind][1]), lenient=True)
    split = "train" if file == TRAIN else "test"
    gold = {"train": GOLD_TRAIN, "test": GOLD_TEST}
    gold[split] = [pair for pair in gold[split] if pair.id != f"{split}-2"]
    assert corpus.splits == gold
    assert [(p.file, p.position) for p in corpus.problems] == [(f"{DIR}/{file}", "line 2")]


def test_test_and_gold_line_counts_differ(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / DIR / GOLD).write_text("3.5\n2.75\n1.0\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    assert f"{DIR}/{TEST} has 2 rows but {DIR}/{GOLD} has 3; scores are matched to pairs by row" in str(err.value)
    corpus = read(root, lenient=True)
    assert corpus.splits == {"train": GOLD_TRAIN, "test": []} and len(corpus.problems) == 1


def test_missing_gold_file(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / DIR / GOLD).unlink()
    with pytest.raises(CorpusFormatError, match=f"{DIR}/{TEST}: gold scores {GOLD} not found under"):
        read(root)
    corpus = read(root, lenient=True)
    assert corpus.splits == {"train": GOLD_TRAIN, "test": []} and len(corpus.problems) == 1
    assert read(root, splits=("train",)).splits == {"train": GOLD_TRAIN}  # test not requested: not needed


@pytest.mark.parametrize(("content", "position", "message"), [
    (b"\n\n", "", "file is empty"),
    (b"ok\tfine\t1.0\ncaf\xe9\tb\t2.0\n", "line 2 (byte 15)", "not valid UTF-8"),
])
def test_unusable_file_is_skipped_whole(tmp_path: Path, content: bytes, position: str, message: str) -> None:
    root = _root(tmp_path)
    (root / DIR / TRAIN).write_bytes(content)
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    assert f"{DIR}/{TRAIN}:{position}" in str(err.value) and message in str(err.value)
    corpus = read(root, lenient=True)
    assert corpus.splits == {"train": [], "test": GOLD_TEST} and len(corpus.problems) == 1


def test_unusable_gold_file_is_reported_once(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / DIR / GOLD).write_bytes(b"\n")
    with pytest.raises(CorpusFormatError, match=f"^{DIR}/{GOLD}: file is empty"):
        read(root)
    corpus = read(root, lenient=True)
    assert corpus.splits == {"train": GOLD_TRAIN, "test": []} and len(corpus.problems) == 1
