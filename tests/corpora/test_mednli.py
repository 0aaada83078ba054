from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Pair, corpus_info
from mtclin.corpora.mednli import LABELS, read
from mtclin.corpora.samples import mednli as sample
from mtclin.corpora.samples.common import CANARY

FIXTURE = Path(__file__).parent / "fixtures" / "mednli"
RELEASE = "mednli-1.0.0"
SECRET = "Zyxwvut reported crushing chest pain"  # stands for note text: must never reach a message
LABS = "Labs were notable for Cr 1.7 (baseline 0.5 per old records) and lactate 2.4."

GOLD_TRAIN = [
    Pair("23eb94b8-66c7-11e7-a8dc-f45c89b91419", LABS, " Patient has elevated Cr", label="entailment"),
    Pair("23eb94b9-66c7-11e7-a8dc-f45c89b91419", LABS, "Patient has normal Cr", label="contradiction"),
]
GOLD_DEV = [  # JSON escapes decoded, sentences not stripped; the blank line between the two is skipped
    Pair("5c3a2e1e-66c8-11e7-b6b6-f45c89b91419", 'He was started on "heparin" \u2013 dose\u00a0adjusted.',
         "He has a history of gout.", label="neutral"),
    Pair("5c3a2e1f-66c8-11e7-b6b6-f45c89b91419", "Chest x-ray showed no infiltrate.", "The patient has pneumonia.",
         label="contradiction"),
]
GOLD_TEST = [Pair("t-1", "No fever.", "The patient is afebrile.", label="entailment")]
GOLD = {"train": GOLD_TRAIN, "dev": GOLD_DEV, "test": GOLD_TEST}


def _record(**fields: object) -> str:
    """A JSON line with all release fields; a field given as None is left out."""
    record: dict[str, object] = {"sentence1": f"{SECRET}.", "pairID": "bad-1", "sentence1_parse": "(ROOT (NP (NN x)))",
                                 "sentence1_binary_parse": "x", "sentence2": "Patient has chest pain.",
                                 "sentence2_parse": "(ROOT (NP (NN y)))", "sentence2_binary_parse": "y",
                                 "gold_label": "entailment"}
    record.update(fields)
    return json.dumps({key: value for key, value in record.items() if value is not None})


def _release(tmp_path: Path, bad_line: str | None = None) -> Path:
    """A copy of the fixture release; ``bad_line`` goes between the two lines of the train file (line 2)."""
    root = tmp_path / "data"
    shutil.copytree(FIXTURE, root)
    if bad_line is not None:
        train = root / RELEASE / "mli_train_v1.jsonl"
        first, second = train.read_text(encoding="utf-8").splitlines()
        train.write_text(f"{first}\n{bad_line}\n{second}\n", encoding="utf-8")
    return root


def test_registered_as_three_label_nli() -> None:
    info = corpus_info("mednli")
    assert (info.kind, info.labels, info.read) == ("nli", ("contradiction", "entailment", "neutral"), read)


def test_golden_fixture_each_official_file_is_its_own_split_and_blank_lines_are_skipped() -> None:
    corpus = read(FIXTURE)
    assert corpus.splits == GOLD
    assert list(corpus.splits) == ["train", "dev", "test"]  # the default reads all three
    assert corpus_info("mednli").splits == ("train", "dev", "test")
    assert corpus.problems == []
    assert (corpus.name, corpus.kind) == ("mednli", "nli")


def test_a_split_not_requested_is_never_opened(tmp_path: Path) -> None:
    root = _release(tmp_path)
    (root / RELEASE / "mli_train_v1.jsonl").write_text("not json\n", encoding="utf-8")  # never opened
    corpus = read(root, splits=("test",))
    assert corpus.splits == {"test": GOLD_TEST}


@pytest.mark.parametrize("seed", [0, 5])
def test_sample_sizes_label_balance_and_canary(tmp_path: Path, seed: int) -> None:
    gold = sample.write(tmp_path, seed=seed)  # read back exactly: tests/corpora/test_contract.py
    assert (len(gold["train"]), len(gold["dev"]), len(gold["test"])) == (201, 39, 60)
    for split in ("train", "dev", "test"):
        labels = [pair.label for pair in gold[split]]
        assert {labels.count(label) for label in LABELS} == {len(labels) // 3}  # one of each per premise
        assert any(CANARY in pair.a for pair in gold[split])
        assert not any(CANARY in pair.b for pair in gold[split])


def test_sample_scale_and_parse_fields(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, seed=1, scale=0.5)
    assert (len(gold["train"]), len(gold["dev"]), len(gold["test"])) == (102, 18, 30)
    for path in tmp_path.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for side in ("sentence1", "sentence2"):
                parse, binary = record[f"{side}_parse"], record[f"{side}_binary_parse"]
                assert parse.startswith("(ROOT (") and parse.count("(") == parse.count(")")
                assert binary.count("(") == binary.count(")")
                # the binary parse's leaves are the parse's words, in order
                words = [token for token in binary.split() if token not in "()"]
                assert words == [leaf.rstrip(")") for leaf in parse.split() if leaf.endswith(")")]


BAD_LINES = {
    "invalid JSON": ('{"sentence1": "' + SECRET + '", "pairID": ', "line 2 (column", "invalid JSON"),
    "not an object": (json.dumps([SECRET]), "line 2", "expected a JSON object"),
    "missing field": (_record(gold_label=None), "line 2", "missing field(s) gold_label"),
    "not a string": (_record(pairID=17), "line 2", "pairID must be strings"),
    "unknown label": (_record(gold_label="-"), "line 2", "unknown gold_label '-'"),
    "empty sentence": (_record(sentence2="  "), "line 2", "sentence2 is empty"),
    "duplicate id": (_record(pairID="23eb94b8-66c7-11e7-a8dc-f45c89b91419"), "line 2",
                     f"first at {RELEASE}/mli_train_v1.jsonl line 1"),
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_bad_line_strict_names_file_and_line(tmp_path: Path, kind: str) -> None:
    line, position, message = BAD_LINES[kind]
    with pytest.raises(CorpusFormatError) as err:
        read(_release(tmp_path, line))
    assert f"{RELEASE}/mli_train_v1.jsonl:{position}" in str(err.value)
    assert message in str(err.value)
    assert SECRET not in str(err.value) and "Zyxwvut" not in str(err.value)


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_bad_line_lenient_skips_only_that_line(tmp_path: Path, kind: str) -> None:
    corpus = read(_release(tmp_path, BAD_LINES[kind][0]), lenient=True)
    assert corpus.splits == GOLD
    assert len(corpus.problems) == 1
    assert corpus.problems[0].file == f"{RELEASE}/mli_train_v1.jsonl"
    assert corpus.problems[0].position.startswith("line 2")


def test_duplicate_id_within_the_dev_file(tmp_path: Path) -> None:
    root = _release(tmp_path)
    dev = root / RELEASE / "mli_dev_v1.jsonl"
    with dev.open("a", encoding="utf-8") as file:  # dev's lines 1 and 3 are its pairs (line 2 is blank)
        file.write(_record(pairID="5c3a2e1e-66c8-11e7-b6b6-f45c89b91419") + "\n")
    message = (f"^{RELEASE}/mli_dev_v1.jsonl:line 4: duplicate pairID '5c3a2e1e-66c8-11e7-b6b6-f45c89b91419' "
               f"\\(first at {RELEASE}/mli_dev_v1.jsonl line 1\\)")
    with pytest.raises(CorpusFormatError, match=message):
        read(root)
    corpus = read(root, lenient=True)
    assert corpus.splits == GOLD  # the first one kept
    assert [(p.file, p.position) for p in corpus.problems] == [(f"{RELEASE}/mli_dev_v1.jsonl", "line 4")]


def test_same_id_in_train_and_dev_is_allowed(tmp_path: Path) -> None:
    root = _release(tmp_path)
    (root / RELEASE / "mli_dev_v1.jsonl").write_text(
        _record(pairID="23eb94b9-66c7-11e7-a8dc-f45c89b91419", sentence1="Afebrile.") + "\n", encoding="utf-8")
    corpus = read(root)
    assert corpus.problems == []
    assert corpus.splits == {"train": GOLD_TRAIN, "test": GOLD_TEST, "dev": [
        Pair("23eb94b9-66c7-11e7-a8dc-f45c89b91419", "Afebrile.", "Patient has chest pain.", label="entailment")]}


@pytest.mark.parametrize(("content", "position", "message"), [
    (b"", "", "file is empty"),
    (b'{"sentence1": "ok"}\n{"sentence1": "caf\xe9"}\n', "line 2 (byte 38)", "not valid UTF-8"),
])
def test_unusable_file_is_skipped_whole(tmp_path: Path, content: bytes, position: str, message: str) -> None:
    root = _release(tmp_path)
    (root / RELEASE / "mli_train_v1.jsonl").write_bytes(content)
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    assert f"{RELEASE}/mli_train_v1.jsonl:{position}" in str(err.value) and message in str(err.value)
    corpus = read(root, lenient=True)
    assert corpus.splits == {"train": [], "dev": GOLD_DEV, "test": GOLD_TEST}
    assert len(corpus.problems) == 1


def test_two_copies_of_a_file_are_reported(tmp_path: Path) -> None:
    root = _release(tmp_path)
    (root / "copy").mkdir()
    shutil.copy(root / RELEASE / "mli_test_v1.jsonl", root / "copy" / "mli_test_v1.jsonl")
    with pytest.raises(CorpusFormatError, match="2 copies of mli_test_v1.jsonl: copy/mli_test_v1.jsonl, "):
        read(root, splits=("test",))
    corpus = read(root, splits=("test",), lenient=True)
    assert corpus.splits == {"test": GOLD_TEST} and len(corpus.problems) == 1
