"""n2c2-2018 track 2 reader: golden fixture, sample round trip, and every kind of bad input."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Document, Entity, corpus_info
from mtclin.corpora.n2c2_2018 import LABELS, read
from mtclin.corpora.samples import n2c2_2018 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURE = Path(__file__).parent / "fixtures" / "n2c2-2018"
SECRET = "Zebulon"  # stands for PHI: must never reach a problem message


def _surfaces(document: Document) -> list[tuple[str, str, tuple[tuple[int, int], ...], str]]:
    return [(e.id, e.type, e.fragments, " ".join(document.text[s:t] for s, t in e.fragments))
            for e in document.entities]


def test_registered_as_ner_with_the_nine_types() -> None:
    info = corpus_info("n2c2-2018")
    assert (info.kind, info.labels, info.read) == ("ner", LABELS, read)
    assert set(LABELS) == {"ADE", "Dosage", "Drug", "Duration", "Form", "Frequency", "Reason", "Route", "Strength"}


def test_golden_fixture_nested_below_the_root() -> None:
    corpus = read(FIXTURE)
    assert (corpus.name, corpus.kind, corpus.problems) == ("n2c2-2018", "ner", [])
    [train], [test] = corpus.splits["train"], corpus.splits["test"]
    assert train.id == "release/training_20180910/100035"
    assert train.text.startswith("Admission Date: [**2115-2-22**]\n") and train.text.endswith("PO DAILY.\n")
    # sorted by (start, end, type, id) although the .ann lists T1..T21 in another order
    assert _surfaces(train) == [
        ("T3", "Drug", ((126, 136),), "lisinopril"),
        ("T4", "Strength", ((137, 142),), "10 mg"),
        ("T5", "Route", ((143, 145),), "PO"),
        ("T6", "Frequency", ((146, 151),), "daily"),
        ("T2", "Reason", ((156, 168),), "hypertension"),
        ("T8", "ADE", ((180, 190),), "angioedema"),
        ("T7", "Drug", ((194, 204),), "lisinopril"),
        ("T1", "Drug", ((236, 245),), "cefazolin"),
        ("T9", "Duration", ((246, 256),), "for 7 days"),
        ("T10", "Reason", ((261, 265), (276, 290)), "left leg cellulitis"),  # discontinuous
        ("T11", "Reason", ((270, 290),), "right leg cellulitis"),  # overlaps T10
        ("T12", "Reason", ((314, 327),), "heart\nfailure"),  # the .ann writes "heart failure"
        ("T13", "Drug", ((343, 353),), "furosemide"),
        ("T14", "Route", ((354, 356),), "IV"),
        ("T15", "Drug", ((385, 392),), "Aspirin"),
        ("T16", "Strength", ((393, 398),), "81 mg"),
        ("T17", "Form", ((399, 415),), "Tablet, Chewable"),
        ("T18", "Dosage", ((421, 428),), "One (1)"),
        ("T19", "Form", ((429, 435),), "Tablet"),
        ("T20", "Route", ((436, 438),), "PO"),
        ("T21", "Frequency", ((439, 444),), "DAILY"),
    ]
    assert test.id == "release/gold-standard-test-data/test/100590"
    assert [(e.type, test.text[e.start:e.end]) for e in test.entities] == [
        ("Drug", "Metformin"), ("Strength", "500 mg"), ("Route", "PO"), ("Frequency", "BID"),
        ("Reason", "type 2 diabetes")]


# sample corpus


@pytest.mark.parametrize("seed", [0, 1])
def test_sample_sizes(tmp_path: Path, seed: int) -> None:
    gold = sample.write(tmp_path, seed=seed)  # read back exactly: tests/corpora/test_contract.py
    assert (len(gold["train"]), len(gold["test"])) == (30, 10)


def test_sample_scale(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, scale=0.2)
    assert (len(gold["train"]), len(gold["test"])) == (6, 2)


def test_sample_reproduces_the_release_quirks(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, seed=0)
    documents = [d for split in gold.values() for d in split if isinstance(d, Document)]
    entities = [(d, e) for d in documents for e in d.entities]
    assert {e.type for _, e in entities} == set(LABELS)
    discontinuous = [(d, e) for d, e in entities if e.discontinuous]
    assert discontinuous
    # spans crossing a line break: inside one fragment, and split by BRAT into fragments around the newline
    assert any("\n" in d.text[e.start:e.end] and not e.discontinuous for d, e in entities)
    assert any(d.text[e.fragments[0][1]:e.fragments[1][0]] == "\n" for d, e in discontinuous)
    assert any(a.start < b.start < a.end for d in documents for a, b in zip(d.entities, d.entities[1:]))
    ann = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.ann"))
    assert "\tStrength-Drug Arg1:T" in ann and "heart failure" in ann
    # the canary sits in several notes and never inside an entity
    with_canary = [d for d in documents if CANARY in d.text]
    assert len(with_canary) >= 5
    assert not any(CANARY in d.text[e.start:e.end] for d, e in entities)
    # learnable: a (single-fragment) surface form always has the same type
    types = defaultdict(set)
    for d, e in entities:
        types[d.text[e.start:e.end]].add(e.type)
    assert all(len(found) == 1 for found in types.values())
    assert all(8 <= len(d.text.splitlines()) <= 24 for d in documents)


def test_sample_writes_the_real_forms_of_discontinuous_text(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, seed=0)
    texts = {d.id: d.text for split in gold.values() for d in split if isinstance(d, Document)}
    forms = defaultdict(int)
    for path in sorted(tmp_path.rglob("*.ann")):
        text = texts[path.relative_to(tmp_path).with_suffix("").as_posix()]
        for line in path.read_text(encoding="utf-8").splitlines():
            ident, middle, *surface = line.split("\t")
            if not ident.startswith("T") or ";" not in middle:
                continue
            fragments = [tuple(map(int, part.split())) for part in middle.partition(" ")[2].split(";")]
            joined = " ".join(text[a:b] for a, b in fragments).replace("\n", " ")
            concatenated = "".join(text[a:b] for a, b in fragments)
            covering = text[fragments[0][0]:fragments[-1][1]]
            if surface == [joined]:
                forms["joined"] += 1
            elif surface == [concatenated] and fragments[0][1] == fragments[1][0]:
                forms["concatenated"] += 1
            elif surface == [covering] and fragments[0][1] < fragments[1][0]:
                forms["covering"] += 1
    assert set(forms) == {"joined", "concatenated", "covering"} and min(forms.values()) >= 3
    ann = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.ann"))
    assert "\tTablet, Chewable\n" in ann and "\thydromorphone (Dilaudid\n" in ann


# bad input: a corpus whose note training_20180910/200 gets a bad line 4 (lines 1-3 are fine)

NOTE = f"{SECRET} Quist takes aspirin 81 mg daily for chest pain.\n"
GOOD_ANN = "T1\tDrug 20 27\taspirin\nT2\tStrength 28 33\t81 mg\nR1\tStrength-Drug Arg1:T2 Arg2:T1\n"


def _corpus(tmp_path: Path, bad_line: str = "") -> Path:
    root = tmp_path / "data"
    for folder in (root / "n2c2" / "training_20180910", root / "n2c2" / "gold-standard-test-data" / "test"):
        folder.mkdir(parents=True)
        for name in ("100", "200"):
            (folder / f"{name}.txt").write_text(NOTE, encoding="utf-8")
            (folder / f"{name}.ann").write_text(GOOD_ANN, encoding="utf-8")
    (root / "n2c2" / "training_20180910" / "200.ann").write_text(GOOD_ANN + bad_line + "\n", encoding="utf-8")
    return root


def test_bad_input_corpus_is_good_without_the_bad_line(tmp_path: Path) -> None:
    corpus = read(_corpus(tmp_path))
    assert NOTE[20:27] == "aspirin" and NOTE[28:33] == "81 mg" and NOTE[44:54] == "chest pain"
    assert corpus.problems == [] and [len(d.entities) for d in corpus.splits["train"]] == [2, 2]


@pytest.mark.parametrize(
    ("bad_line", "position", "message", "kept"),
    [
        ("T3\tDiagnosis 44 54\tchest pain", "line 4 (offsets 44-54)", "T3: unknown label 'Diagnosis'", False),
        ("T3\tReason 44 90\tchest pain", "line 4 (offsets 44-90)", "ends past the end of the text (56 chars)", False),
        ("T3\tReason 54 44\tchest pain", "line 4 (offsets 54-44)", "fragment 54-44 is reversed", False),
        ("T3\tReason 44 49;50\tchest pain", "line 4", "T3: offsets field (8 chars) is not 'START END'", False),
        ("T3\tReason 44 49 50 54\tchest pain", "line 4", "T3: offsets field (11 chars) is not 'START END'", False),
        ("T3\tReason 43 53\tchest pain", "line 4 (offsets 43-53)", "span text (9 chars) does not match", True),
        ("R2\tStrength-Drug Arg1:T2", "line 4", "malformed 'R' annotation line", False),
        (f"{SECRET} chest pain", "line 4", "unparsable line: no tab", False),
    ],
)
def test_bad_annotation_line(tmp_path: Path, bad_line: str, position: str, message: str, kept: bool) -> None:
    root = _corpus(tmp_path, bad_line)
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    text = str(err.value)
    assert text.startswith(f"n2c2/training_20180910/200.ann:{position}: ") and message in text
    assert SECRET not in text and "chest" not in text and "aspirin" not in text
    corpus = read(root, lenient=True)
    assert [str(p).split(": ")[0] for p in corpus.problems] == [f"n2c2/training_20180910/200.ann:{position}"]
    bad_document = corpus.splits["train"][1]
    expected = [Entity("T1", "Drug", ((20, 27),)), Entity("T2", "Strength", ((28, 33),))]
    if kept:  # a span text mismatch keeps the entity (its offsets are valid), reported
        expected.append(Entity("T3", "Reason", ((43, 53),)))
    assert list(bad_document.entities) == expected
    assert [len(d.entities) for d in corpus.splits["test"]] == [2, 2]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: (t / "200.ann").unlink(), "200.txt: no annotation file 200.ann beside this note; document skipped"),
        (lambda t: (t / "200.txt").unlink(), "200.ann: no note 200.txt beside these annotations; file skipped"),
        (lambda t: (t / "200.txt").write_bytes(NOTE.encode()[:8] + b"\xe9" + NOTE.encode()[8:]),
         "200.txt:line 1 (byte 8): not valid UTF-8 (invalid continuation byte)"),
        (lambda t: (t / "200.ann").write_bytes(b"T1\tDrug 20 27\t\xff\n"),
         "200.ann:line 1 (byte 14): not valid UTF-8 (invalid start byte)"),
        (lambda t: (t / "200.txt").write_bytes(b""), "200.txt: file is empty"),
        (lambda t: (t / "200.txt").write_bytes(b"\n\n"), "200.txt: file is empty"),
    ],
)
def test_unusable_file_is_skipped(tmp_path: Path, change, problem: str) -> None:
    root = _corpus(tmp_path)
    change(root / "n2c2" / "training_20180910")
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    assert str(err.value).startswith(f"n2c2/training_20180910/{problem}") and SECRET not in str(err.value)
    corpus = read(root, lenient=True)
    assert [str(p) for p in corpus.problems] == [f"n2c2/training_20180910/{problem}"]
    assert [d.id for d in corpus.splits["train"]] == ["n2c2/training_20180910/100"]
    assert len(corpus.splits["test"]) == 2
