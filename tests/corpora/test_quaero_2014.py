"""quaero-2014 reader: golden fixture, the real training part, sample round trip, and bad input."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Document, Entity, corpus_info
from mtclin.corpora.quaero_2014 import LABELS, read
from mtclin.corpora.samples import quaero_2014 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURE = Path(__file__).parent / "fixtures" / "quaero-2014"
CORPUS = "QUAERO_FrenchMed/corpus"
SECRET = "Zébulon"  # stands for note text: must never reach a problem message


def _surfaces(document: Document) -> list[tuple[str, str, tuple[tuple[int, int], ...], str]]:
    return [(e.id, e.type, e.fragments, " ".join(document.text[s:t] for s, t in e.fragments))
            for e in document.entities]


def _pairs(documents: list[Document]) -> Counter:
    """Entity pairs per relation: same span, nested (one inside the other), crossing."""
    found: Counter = Counter()
    for document in documents:
        entities = document.entities
        for i, a in enumerate(entities):
            for b in entities[i + 1:]:
                if (a.start, a.end) == (b.start, b.end):
                    found["same span, other type" if a.type != b.type else "same span, same type"] += 1
                elif a.start <= b.start and b.end <= a.end or b.start <= a.start and a.end <= b.end:
                    found["nested"] += 1
                elif b.start < a.end:
                    found["crossing"] += 1
    return found


def test_registered_as_ner_with_the_ten_groups() -> None:
    info = corpus_info("quaero-2014")
    assert (info.kind, info.labels, info.read) == ("ner", LABELS, read)
    assert LABELS == ("ANAT", "CHEM", "DEVI", "DISO", "GEOG", "LIVB", "OBJC", "PHEN", "PHYS", "PROC")


def test_golden_fixture() -> None:
    corpus = read(FIXTURE)
    assert (corpus.name, corpus.kind, corpus.problems) == ("quaero-2014", "ner", [])
    # each split is its official folder, sorted by id; the default reads all three
    assert list(corpus.splits) == ["train", "dev", "test"]
    assert corpus_info("quaero-2014").splits == ("train", "dev", "test")
    assert [d.id for d in corpus.splits["train"]] == [f"{CORPUS}/train/EMEA/118_2", f"{CORPUS}/train/MEDLINE/2222222"]
    assert [d.id for d in corpus.splits["dev"]] == [f"{CORPUS}/dev/MEDLINE/1234567"]
    emea, empty = corpus.splits["train"]
    [dev] = corpus.splits["dev"]
    assert emea.text.startswith("\n\n Epivir 150 mg") and emea.text.endswith(" .\n\n\n")  # never stripped
    assert _surfaces(emea) == [
        ("T1", "CHEM", ((3, 9),), "Epivir"),
        ("T2", "CHEM", ((19, 28),), "comprimés"),
        ("T3", "CHEM", ((19, 39),), "comprimés pelliculés"),  # nests T2
        ("T4", "LIVB", ((45, 53),), "patients"),
        ("T5", "DISO", ((67, 75), (86, 87)), "hépatite B"),  # discontinuous, inside T6
        ("T6", "DISO", ((67, 87),), "hépatite chronique B"),
        ("T8", "DISO", ((95, 119),), "inflammation du pancréas"),  # DISO containing ANAT
        ("T7", "ANAT", ((111, 119),), "pancréas"),
        ("T9", "DISO", ((144, 147),), "VIH"),  # one span, two types
        ("T10", "LIVB", ((144, 147),), "VIH"),
        ("T11", "DISO", ((171, 179), (188, 208)), "troubles liés à la séparation"),  # listed 188 208;171 179
    ]
    assert _surfaces(dev) == [
        ("T1", "PROC", ((0, 7),), "Analyse"),
        ("T2", "DISO", ((41, 66),), "pathologies asbestosiques"),
        ("T3", "GEOG", ((70, 76),), "France"),
    ]
    assert (empty.text, empty.entities) == ("Éditorial .\n", ())  # an empty .ann: a title without entities
    [test] = corpus.splits["test"]
    assert test.id == f"{CORPUS}/test/MEDLINE/7654321"
    assert [(e.type, test.text[e.start:e.end]) for e in test.entities] == [
        ("DISO", "Cancer"), ("DISO", "Cancer du poumon"), ("ANAT", "poumon"), ("LIVB", "fumeurs"),
        ("PROC", "dépistage"), ("DEVI", "scanner")]


def test_official_folders_found_at_any_depth_and_dev_folder_is_only_dev(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / CORPUS / "dev", tmp_path / "unpacked" / CORPUS / "dev")
    (tmp_path / "unpacked" / "QUAERO_FrenchMed" / "README.txt").write_text("not a document", encoding="utf-8")
    corpus = read(tmp_path, splits=("dev",))
    assert [d.id for d in corpus.splits["dev"]] == [f"unpacked/{CORPUS}/dev/MEDLINE/1234567"]
    assert corpus.problems == [] and list(corpus.splits) == ["dev"]
    # a dev folder does not make a train split
    with pytest.raises(CorpusFormatError, match=r"^\.: split 'train': no BRAT \.txt/\.ann files found under "):
        read(tmp_path, splits=("train",))
    corpus = read(tmp_path, splits=("train", "dev"), lenient=True)
    assert corpus.splits["train"] == [] and [d.id for d in corpus.splits["dev"]] == [
        f"unpacked/{CORPUS}/dev/MEDLINE/1234567"]
    assert [(p.file, p.message.split(":")[0]) for p in corpus.problems] == [(".", "split 'train'")]


# the real training part (the public copy: official train and dev merged into train/, no dev/ folder), beside the
# checkout

MISMATCHED = [f"{CORPUS}/train/EMEA/118_2.ann", f"{CORPUS}/train/EMEA/118_3.ann"]


def test_real_training_part(shared_corpora: Path) -> None:
    corpus = read(shared_corpora / "quaero", splits=("train",), lenient=True)
    documents = corpus.splits["train"]
    entities = [e for d in documents for e in d.entities]
    # every T line is returned, the 412 whose offsets are one character off their text included
    assert (len(documents), len(entities), sum(e.discontinuous for e in entities)) == (1688, 10926, 76)
    assert Counter(e.type for e in entities) == {
        "DISO": 3049, "CHEM": 2310, "PROC": 1825, "ANAT": 1391, "LIVB": 1166, "PHYS": 570, "OBJC": 183,
        "DEVI": 163, "PHEN": 138, "GEOG": 131}
    # the files whose offsets don't match their text are reported, entity by entity
    assert sorted({p.file for p in corpus.problems}) == MISMATCHED
    assert Counter(p.file for p in corpus.problems) == {MISMATCHED[0]: 221, MISMATCHED[1]: 191}
    assert all("does not match" in p.message and "shifted by -1" in p.message for p in corpus.problems)
    # FORMATS.md: ~2,500 nested pairs in train, some crossing, some one span with two types
    assert _pairs(documents) == {"nested": 2474, "crossing": 8, "same span, other type": 15,
                                 "same span, same type": 2}
    by_id = {d.id: d for d in documents}
    assert sum(d.text.startswith("\n") for d in documents) == 17  # EMEA files starting with blank lines
    assert by_id[f"{CORPUS}/train/EMEA/118_2"].text[:3] == "\n\n "
    assert sum(not d.entities for d in documents) == 82  # MEDLINE titles with an empty .ann
    # fragments listed last-first in the release (T32 DISO 1013 1033;995 1003) come back sorted
    t32 = next(e for e in by_id[f"{CORPUS}/train/EMEA/886_3"].entities if e.id == "T32")
    assert t32.fragments == ((995, 1003), (1013, 1033))


def test_real_copy_without_a_dev_folder_has_an_empty_dev(shared_corpora: Path) -> None:
    corpus = read(shared_corpora / "quaero", splits=("dev",))
    assert corpus.splits == {"dev": []} and corpus.problems == []


def test_real_training_part_strict_stops_at_the_first_mismatch(shared_corpora: Path) -> None:
    with pytest.raises(CorpusFormatError) as err:
        read(shared_corpora / "quaero", splits=("train",))
    assert str(err.value).startswith(f"{MISMATCHED[0]}:line 7 (offsets 49-67): T4 CHEM: span text (17 chars) "
                                      "does not match the annotation's text (18 chars)")
    assert "comprim" not in str(err.value)


# sample corpus


@pytest.mark.parametrize("seed", [0, 1])
def test_sample_sizes_and_folders(tmp_path: Path, seed: int) -> None:
    gold = sample.write(tmp_path, seed=seed)  # read back exactly: tests/corpora/test_contract.py
    assert list(gold) == ["train", "dev", "test"]
    # official folders: train 3 leaflets (2-4 sub-documents each) + 12 titles, dev 1 + 4, test 1 + 6
    assert 18 <= len(gold["train"]) <= 24 and 6 <= len(gold["dev"]) <= 8 and 8 <= len(gold["test"]) <= 10
    for split, documents in gold.items():
        assert documents and all(d.id.startswith(f"{CORPUS}/{split}/") for d in documents)


def test_sample_scale(tmp_path: Path) -> None:
    small, large = sample.write(tmp_path / "s", scale=0.1), sample.write(tmp_path / "l", scale=3.0)
    # scale 0.1: one leaflet (2-4 sub-documents) and one title per folder; 3.0: train 9 + 36, dev 3 + 12
    assert 3 <= len(small["train"]) <= 5 and 3 <= len(small["dev"]) <= 5
    assert 54 <= len(large["train"]) <= 72 and 18 <= len(large["dev"]) <= 24


def test_sample_reproduces_the_release_quirks(tmp_path: Path) -> None:
    gold = sample.write(tmp_path, seed=0)
    documents = [d for split in gold.values() for d in split if isinstance(d, Document)]
    entities = [(d, e) for d in documents for e in d.entities]
    assert {e.type for _, e in entities} == set(LABELS)
    assert any(e.discontinuous for _, e in entities)
    pairs = _pairs(documents)
    assert pairs["nested"] > 10 and pairs["same span, other type"] > 0
    assert any(a.type == "DISO" and b.type == "ANAT" and a.start <= b.start and b.end <= a.end
               for d in documents for a in d.entities for b in d.entities)
    emea = [d for d in documents if "/EMEA/" in d.id]
    assert all(d.id.rsplit("/", 1)[1].count("_") == 1 for d in emea)
    assert any(d.text.startswith("\n\n ") for d in emea) and all(8 <= len(d.text.split("\n")) for d in emea)
    medline = [d for d in documents if "/MEDLINE/" in d.id]
    assert medline and all(d.text.count("\n") == 1 and d.text.endswith(" .\n") for d in medline)
    assert any(not d.entities for d in medline)
    ann = "".join(p.read_text(encoding="utf-8") for p in sorted(tmp_path.rglob("*.ann")))
    assert "\tAnnotatorNotes T1\tC" in ann
    assert any(";" in line.split("\t")[1] and int(line.split("\t")[1].split()[1]) > int(line.split(";")[1].split()[0])
               for line in ann.splitlines() if line.startswith("T"))  # fragments listed last-first
    assert len([d for d in documents if CANARY in d.text]) >= 4
    assert not any(CANARY in d.text[e.start:e.end] for d, e in entities)
    assert "é" in "".join(d.text for d in documents) and " l ’ " in "".join(d.text for d in emea)


# bad input: train/MEDLINE/2000000 gets a bad line 3 (lines 1-2 are fine)

TITLE = f"Hépatite chez {SECRET} en France .\n"
GOOD_ANN = "T1\tDISO 0 8\tHépatite\n#1\tAnnotatorNotes T1\tC0019158\n"


def _corpus(tmp_path: Path, bad_line: str = "") -> Path:
    root = tmp_path / "data"
    for official in ("train", "dev", "test"):
        folder = root / CORPUS / official / "MEDLINE"
        folder.mkdir(parents=True)
        (folder / f"1{official[0]}.txt").write_text(TITLE, encoding="utf-8")
        (folder / f"1{official[0]}.ann").write_text(GOOD_ANN, encoding="utf-8")
    folder = root / CORPUS / "train" / "MEDLINE"
    (folder / "2000000.txt").write_text(TITLE, encoding="utf-8")
    (folder / "2000000.ann").write_text(GOOD_ANN + bad_line + "\n", encoding="utf-8")
    return root


def test_bad_input_corpus_is_good_without_the_bad_line(tmp_path: Path) -> None:
    corpus = read(_corpus(tmp_path))
    assert TITLE[0:8] == "Hépatite" and TITLE[25:31] == "France"
    assert corpus.problems == []
    assert {split: [(d.id.rsplit("/", 1)[1], len(d.entities)) for d in documents]
            for split, documents in corpus.splits.items()} == {
        "train": [("1t", 1), ("2000000", 1)], "dev": [("1d", 1)], "test": [("1t", 1)]}


@pytest.mark.parametrize(
    ("bad_line", "position", "message", "kept"),
    [
        ("T2\tLOCATION 25 31\tFrance", "line 3 (offsets 25-31)", "T2: unknown label 'LOCATION'", False),
        ("T2\tGEOG 25 40\tFrance", "line 3 (offsets 25-40)", "ends past the end of the text (34 chars)", False),
        ("T2\tGEOG 31 25\tFrance", "line 3 (offsets 31-25)", "fragment 31-25 is reversed", False),
        ("T2\tGEOG 25 31;\tFrance", "line 3", "T2: offsets field (6 chars) is not 'START END'", False),
        ("T2\tGEOG 24 30\tFrance", "line 3 (offsets 24-30)", "span text (5 chars) does not match", True),
    ],
)
def test_bad_annotation_line(tmp_path: Path, bad_line: str, position: str, message: str, kept: bool) -> None:
    root = _corpus(tmp_path, bad_line)
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    text = str(err.value)
    assert text.startswith(f"{CORPUS}/train/MEDLINE/2000000.ann:{position}: ") and message in text
    assert SECRET not in text and "France" not in text and "Hépatite" not in text
    corpus = read(root, lenient=True)
    assert [str(p).split(": ")[0] for p in corpus.problems] == [f"{CORPUS}/train/MEDLINE/2000000.ann:{position}"]
    bad = next(d for d in corpus.splits["train"] if d.id.endswith("2000000"))
    expected = [Entity("T1", "DISO", ((0, 8),))] + ([Entity("T2", "GEOG", ((24, 30),))] if kept else [])
    assert list(bad.entities) == expected


@pytest.mark.parametrize("note_line", [
    "#2\tAnnotatorNotes\tC0016674",  # no target entity after AnnotatorNotes: accepted all the same
    "#2\tAnnotatorNotes T1\tC0016674",
    "#2 AnnotatorNotes T1 C0016674",  # no tab after the id
])
def test_note_line_of_any_shape_is_accepted_and_ignored(tmp_path: Path, note_line: str) -> None:
    root = _corpus(tmp_path, note_line)
    for lenient in (False, True):  # strict mode does not raise
        corpus = read(root, lenient=lenient)
        assert corpus.problems == []
        bad = next(d for d in corpus.splits["train"] if d.id.endswith("2000000"))
        assert list(bad.entities) == [Entity("T1", "DISO", ((0, 8),))]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: (t / "2000000.ann").unlink(), "2000000.txt: no annotation file 2000000.ann beside this note"),
        (lambda t: (t / "2000000.txt").unlink(), "2000000.ann: no note 2000000.txt beside these annotations"),
        (lambda t: (t / "2000000.txt").write_bytes(TITLE.encode("latin-1")), "2000000.txt:line 1 (byte 1): not valid"),
        (lambda t: (t / "2000000.txt").write_bytes(b" \n"), "2000000.txt: file is empty"),
    ],
)
def test_unusable_file_is_skipped(tmp_path: Path, change, problem: str) -> None:
    root = _corpus(tmp_path)
    change(root / CORPUS / "train" / "MEDLINE")
    with pytest.raises(CorpusFormatError) as err:
        read(root)
    assert str(err.value).startswith(f"{CORPUS}/train/MEDLINE/{problem}") and SECRET not in str(err.value)
    corpus = read(root, lenient=True)
    assert len(corpus.problems) == 1 and str(corpus.problems[0]).startswith(f"{CORPUS}/train/MEDLINE/{problem}")
    assert [d.id.rsplit("/", 1)[1] for d in corpus.splits["train"]] == ["1t"]
    assert [d.id.rsplit("/", 1)[1] for d in corpus.splits["dev"]] == ["1d"]
    assert len(corpus.splits["test"]) == 1
