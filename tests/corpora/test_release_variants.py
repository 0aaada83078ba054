"""Readers on the variants seen in real releases (FORMATS.md, "Variants seen in real releases"): each fixture
under fixtures/variants/<corpus>--<variant>/ is a synthetic corpus root laid out like the release variant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Document, Pair, read_corpus

VARIANTS = Path(__file__).parent / "fixtures" / "variants"
N18_TRAIN, N18_TEST = "training_20180910", "gold-standard-test-data/test"
STS = "n2c2_2019_track1"


def _spans(document: Document) -> list[tuple[str, str, tuple[tuple[int, int], ...], str]]:
    """(id, type, fragments, fragment texts joined by a space) of every entity, in reader order."""
    return [(e.id, e.type, e.fragments, " ".join(document.text[s:t] for s, t in e.fragments))
            for e in document.entities]


def _read(corpus: str, variant: str, root: Path | None = None, **kwargs):
    return read_corpus(corpus, root if root is not None else VARIANTS / variant, **kwargs)


def _copy(variant: str, tmp_path: Path) -> Path:
    root = tmp_path / variant
    shutil.copytree(VARIANTS / variant, root)
    return root


# --- n2c2-2018 discontinuous text ---------------------------------------------------------------------------

TEST_300 = [  # gold-standard-test-data/test/300 of every n2c2-2018 variant: touching fragments, concatenated text
    ("T1", "Drug", ((26, 43),), "Calcium Carbonate"),
    ("T2", "Strength", ((44, 50),), "500 mg"),
    ("T3", "Form", ((51, 57), (57, 67)), "Tablet , Chewable"),
    ("T4", "Route", ((68, 70),), "PO"),
    ("T5", "Frequency", ((71, 74),), "TID"),
]


def test_n2c2_2018_discontinuous_text_in_every_real_form_is_read_without_problems() -> None:
    corpus = _read("n2c2-2018", "n2c2-2018--discontinuous-text")
    assert corpus.problems == []
    [train], [test] = corpus.splits["train"], corpus.splits["test"]
    assert train.id == f"{N18_TRAIN}/100" and test.id == f"{N18_TEST}/300"
    assert _spans(train) == [
        ("T1", "Drug", ((26, 33),), "Aspirin"),
        ("T2", "Strength", ((34, 39),), "81 mg"),
        ("T3", "Form", ((40, 46), (46, 56)), "Tablet , Chewable"),  # .ann: "Tablet, Chewable" (concatenation)
        ("T4", "Drug", ((90, 103), (105, 113)), "hydromorphone Dilaudid"),  # .ann: "hydromorphone (Dilaudid"
        ("T5", "Strength", ((115, 119),), "2 mg"),
        ("T6", "Frequency", ((150, 153),), "Q4H"),
        ("T7", "Reason", ((168, 172),), "pain"),
        ("T8", "Reason", ((209, 213), (218, 228)), "left cellulitis"),  # .ann: covering text, newline as space
        ("T9", "Drug", ((234, 243),), "cefazolin"),
        ("T10", "Reason", ((262, 266), (277, 286)), "left leg edema"),  # .ann: joined by one space
        ("T11", "Reason", ((271, 286),), "right leg edema"),
    ]
    assert train.text[209:228] == "left leg\ncellulitis"
    assert _spans(test) == TEST_300


@pytest.mark.parametrize(
    ("line", "new_text", "position", "lengths"),
    [
        (3, "Tablet Chewable", "line 3 (offsets 40-46;46-56)", "span text (17 chars)"),
        (4, "hydromorphone Dilaudid)", "line 4 (offsets 90-103;105-113)", "span text (22 chars)"),
        (10, "left edema leg", "line 10 (offsets 262-266;277-286)", "span text (14 chars)"),
    ],
)
def test_n2c2_2018_discontinuous_text_matching_no_form_names_file_and_line(
        tmp_path: Path, line: int, new_text: str, position: str, lengths: str) -> None:
    root = _copy("n2c2-2018--discontinuous-text", tmp_path)
    ann = root / N18_TRAIN / "100.ann"
    lines = ann.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = lines[line - 1].rsplit("\t", 1)[0] + "\t" + new_text
    ann.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CorpusFormatError) as err:
        _read("n2c2-2018", "", root)
    problem = err.value.problem
    assert (problem.file, problem.position) == (f"{N18_TRAIN}/100.ann", position)
    assert problem.message.startswith(f"T{line} ") and lengths in problem.message
    assert "do not match either" in problem.message
    for word in ("Tablet", "Chewable", "hydromorphone", "Dilaudid", "left", "edema"):  # never note text
        assert word not in str(err.value)
    corpus = _read("n2c2-2018", "", root, lenient=True)  # kept, flagged: its offsets are valid
    assert [(p.file, p.position) for p in corpus.problems] == [(f"{N18_TRAIN}/100.ann", position)]
    assert len(corpus.splits["train"][0].entities) == 11


def test_n2c2_2018_every_brat_line_kind_is_accepted() -> None:
    corpus = _read("n2c2-2018", "n2c2-2018--brat-line-kinds")
    assert corpus.problems == []
    [train] = corpus.splits["train"]
    assert _spans(train) == [
        ("T1", "Drug", ((8, 16),), "warfarin"),
        ("T2", "Strength", ((17, 21),), "5 mg"),
        ("T3", "Route", ((22, 24),), "PO"),
        ("T4", "Frequency", ((25, 32),), "nightly"),
        ("T5", "Reason", ((37, 56),), "atrial fibrillation"),
    ]
    ann = (VARIANTS / "n2c2-2018--brat-line-kinds" / N18_TRAIN / "100.ann").read_text(encoding="utf-8")
    assert {line[:1] for line in ann.splitlines()} == {"T", "R", "E", "A", "M", "N", "#", "*"}
    assert "N1\tReference T1 MeSH:D014859" in ann


def test_n2c2_2018_a_malformed_relation_line_is_still_reported(tmp_path: Path) -> None:
    root = _copy("n2c2-2018--brat-line-kinds", tmp_path)
    ann = root / N18_TRAIN / "100.ann"
    ann.write_text(ann.read_text(encoding="utf-8") + "R2\tReason-Drug Arg1:T5\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as err:
        _read("n2c2-2018", "", root)
    assert (err.value.problem.file, err.value.problem.position) == (f"{N18_TRAIN}/100.ann", "line 16")
    assert "malformed 'R' annotation line" in err.value.problem.message


# --- n2c2-2018 folder names ---------------------------------------------------------------------------------

SMALL = [("T1", "Drug", ((6, 16),), "metoprolol"), ("T2", "Strength", ((17, 22),), "25 mg")]


@pytest.mark.parametrize(
    ("variant", "folder"),
    [
        ("n2c2-2018--nested-training", "training_20180910/training_20180910"),
        ("n2c2-2018--renamed-training", "track2-training_data_2"),  # beside README.txt and __MACOSX debris
    ],
)
def test_n2c2_2018_training_folder_variants(variant: str, folder: str) -> None:
    corpus = _read("n2c2-2018", variant)
    assert corpus.problems == []
    assert [d.id for d in corpus.splits["train"]] == [f"{folder}/101", f"{folder}/102"]
    assert all(_spans(d) == SMALL for d in corpus.splits["train"])
    assert [d.id for d in corpus.splits["test"]] == [f"{N18_TEST}/300"]
    assert _spans(corpus.splits["test"][0]) == TEST_300


def test_n2c2_2018_the_official_training_folder_wins_over_other_folders(tmp_path: Path) -> None:
    root = _copy("n2c2-2018--renamed-training", tmp_path)
    shutil.copytree(root / "track2-training_data_2", root / "copies" / "training_20180910")
    corpus = _read("n2c2-2018", "", root)
    assert corpus.problems == []
    assert [d.id for d in corpus.splits["train"]] == ["copies/training_20180910/101", "copies/training_20180910/102"]


def test_n2c2_2018_nested_official_folders_read_the_innermost_holding_files(tmp_path: Path) -> None:
    root = _copy("n2c2-2018--nested-training", tmp_path)
    (root / "training_20180910" / "notes.txt").write_text("Unpacked twice.\n", encoding="utf-8")
    (root / "training_20180910" / "notes.ann").write_text("", encoding="utf-8")
    corpus = _read("n2c2-2018", "", root)
    assert corpus.problems == []
    assert [d.id for d in corpus.splits["train"]] == [f"training_20180910/training_20180910/{n}" for n in (101, 102)]


def test_n2c2_2018_training_pairs_in_several_folders_are_ambiguous() -> None:
    with pytest.raises(CorpusFormatError) as err:
        _read("n2c2-2018", "n2c2-2018--ambiguous-training")
    problem = err.value.problem
    assert (problem.file, problem.position) == (".", "")
    assert problem.message == (
        "split 'train': no training_20180910/ folder, and BRAT .txt/.ann pairs are in 2 folders outside the test "
        "folder (notes/extra/, track2-training_data_2/), so which one is train is unknown; expected the training "
        "notes in one folder named training_20180910/ (the official name); no train documents read")
    corpus = _read("n2c2-2018", "n2c2-2018--ambiguous-training", lenient=True)
    assert corpus.splits["train"] == [] and [p.message for p in corpus.problems] == [problem.message]
    assert [d.id for d in corpus.splits["test"]] == [f"{N18_TEST}/300"]  # the test split is not affected
    assert _read("n2c2-2018", "n2c2-2018--ambiguous-training", splits=("test",)).problems == []


def test_n2c2_2018_two_separate_official_training_folders_are_ambiguous(tmp_path: Path) -> None:
    root = _copy("n2c2-2018--nested-training", tmp_path)
    shutil.copytree(root / "training_20180910" / "training_20180910", root / "backup" / "training_20180910")
    corpus = _read("n2c2-2018", "", root, lenient=True)
    assert corpus.splits["train"] == []
    assert [p.message for p in corpus.problems] == [
        "split 'train': 2 training_20180910/ folders hold BRAT files (backup/training_20180910/, "
        "training_20180910/training_20180910/); keep one copy; no train documents read"]


def test_n2c2_2018_no_training_pairs_anywhere_is_a_missing_split(tmp_path: Path) -> None:
    root = _copy("n2c2-2018--renamed-training", tmp_path)
    shutil.rmtree(root / "track2-training_data_2")
    corpus = _read("n2c2-2018", "", root, lenient=True)
    assert corpus.splits["train"] == [] and len(corpus.splits["test"]) == 1
    assert [p.message.split(" (expected")[0] for p in corpus.problems] == [
        f"split 'train': no BRAT .txt/.ann files found under {root}"]


# --- n2c2-2019 quoting --------------------------------------------------------------------------------------

STS_TRAIN = [
    Pair("train-1", 'Patient was instructed to take "Tylenol" 500 mg as needed.',
         "Take acetaminophen 500 mg as needed.", score=4.5),
    Pair("train-2", "Lungs clear to auscultation bilaterally.", "The patient ate breakfast.", score=0.0),
    Pair("train-3", "Discussed plan with the patient's wife.", "Discussed the plan with his wife.", score=5.0),
    # unquoted: its quotes are kept as they are (as csv does); the quoted one loses its quoting
    Pair("train-4", 'Patient states pain is 4/10 "on a good day".', 'Pain "4/10" at rest.', score=3.0),
]
STS_TEST = [
    Pair("test-1", "Ibuprofen 200 mg tablet every 6 hours.", "Ibuprofen 400 mg tablet every 8 hours.", score=3.5),
    Pair("test-2", "Negative for fever, chills.", 'Patient denies "fever" or chills.', score=2.75),
    Pair("test-3", "Follow up in two weeks.", "Return to clinic in 2 weeks.", score=4.0),
]


def test_n2c2_2019_quoted_tsv_with_crlf_and_no_final_newline() -> None:
    raw = (VARIANTS / "n2c2-2019--quoted-tsv" / STS / "clinicalSTS2019.train.txt").read_bytes()
    assert raw.count(b"\r\n") == 3 and not raw.endswith(b"\n") and b'""Tylenol""' in raw
    corpus = _read("n2c2-2019", "n2c2-2019--quoted-tsv")
    assert corpus.problems == []
    assert corpus.splits == {"train": STS_TRAIN, "test": STS_TEST}


def _rewrite(root: Path, name: str, lines: list[str]) -> None:
    (root / STS / name).write_bytes("\r\n".join(lines).encode("utf-8"))


def test_n2c2_2019_a_quoted_sentence_may_span_lines(tmp_path: Path) -> None:
    root = _copy("n2c2-2019--quoted-tsv", tmp_path)
    _rewrite(root, "clinicalSTS2019.train.txt",
             ["a one\tb one\t1.0", '"Pain 4/10,', 'worse at night."\t"Pain at night."\t3.5', "a three\tb three\t2.0"])
    corpus = _read("n2c2-2019", "", root, splits=("train",))
    assert corpus.problems == []
    assert corpus.splits["train"] == [  # ids: the line each row starts on
        Pair("train-1", "a one", "b one", score=1.0),
        Pair("train-2", "Pain 4/10,\r\nworse at night.", "Pain at night.", score=3.5),
        Pair("train-4", "a three", "b three", score=2.0),
    ]


@pytest.mark.parametrize(
    ("lines", "position", "message", "kept"),
    [
        # an unbalanced quote swallows the line end: the row runs on and has too few fields
        (["a one\tb one\t1.0", '"Pain 4/10\tb two\t4.0', 'c three\td three"\t3.0', "a four\tb four\t2.0"],
         "line 2", "2 tab-separated fields, expected 3 (sentence1, sentence2, score); a quoted field runs from "
                   "line 2 to line 3: check for an unbalanced quote", [1, 4]),
        (["a one\tb one\t1.0", "a two\tb two\t4.0", '"Pain" 4/10\tb three\t3.0', "a four\tb four\t2.0"],
         "line 3", "malformed CSV quoting: '\t' expected after '\"'", [1, 2, 4]),
        (["a one\tb one\t1.0", "a two\tb two\t4.0", "a three\tb three\t3.0", '"Pain 4/10\tb four\t2.0'],
         "line 4", "malformed CSV quoting: unexpected end of data", [1, 2, 3]),
        (["a one\tb one\t1.0", '"a two"\t"b two"\t"4.0"\tx', "a three\tb three\t3.0", "a four\tb four\t2.0"],
         "line 2", "4 tab-separated fields, expected 3 (sentence1, sentence2, score)", [1, 3, 4]),
    ],
)
def test_n2c2_2019_rows_that_do_not_parse_name_file_and_starting_line(
        tmp_path: Path, lines: list[str], position: str, message: str, kept: list[int]) -> None:
    root = _copy("n2c2-2019--quoted-tsv", tmp_path)
    _rewrite(root, "clinicalSTS2019.train.txt", lines)
    with pytest.raises(CorpusFormatError) as err:
        _read("n2c2-2019", "", root)
    problem = err.value.problem
    assert (problem.file, problem.position) == (f"{STS}/clinicalSTS2019.train.txt", position)
    assert problem.message.startswith(message) and "Pain" not in str(err.value)
    corpus = _read("n2c2-2019", "", root, lenient=True)
    assert [(p.file, p.position) for p in corpus.problems] == [(f"{STS}/clinicalSTS2019.train.txt", position)]
    assert corpus.splits["test"] == STS_TEST
    assert [p.id for p in corpus.splits["train"]] == [f"train-{n}" for n in kept]


def test_n2c2_2019_a_test_row_of_three_fields_is_reported_at_its_line(tmp_path: Path) -> None:
    root = _copy("n2c2-2019--quoted-tsv", tmp_path)
    _rewrite(root, "clinicalSTS2019.test.txt", ["a\tb", '"a"\t"b"\t"c"', "a\tb"])
    corpus = _read("n2c2-2019", "", root, splits=("test",), lenient=True)
    assert [str(p) for p in corpus.problems] == [
        f"{STS}/clinicalSTS2019.test.txt:line 2: 3 tab-separated fields, expected 2 (sentence1, sentence2)"]
    assert [(p.id, p.score) for p in corpus.splits["test"]] == [("test-1", 3.5), ("test-3", 4.0)]


def test_n2c2_2019_gold_under_the_alternate_name() -> None:
    corpus = _read("n2c2-2019", "n2c2-2019--gold-alias", splits=("test",))
    assert corpus.problems == []
    assert corpus.splits["test"] == STS_TEST


def test_n2c2_2019_the_official_gold_wins_over_the_alternate_name(tmp_path: Path) -> None:
    root = _copy("n2c2-2019--quoted-tsv", tmp_path)
    (root / STS / "clinicalSTS2019.test.labels.txt").write_text("0.0\n0.0\n0.0\n", encoding="utf-8")
    corpus = _read("n2c2-2019", "", root, splits=("test",))
    assert corpus.problems == [] and corpus.splits["test"] == STS_TEST


def test_n2c2_2019_no_gold_under_either_name(tmp_path: Path) -> None:
    root = _copy("n2c2-2019--gold-alias", tmp_path)
    (root / "clinicalSTS2019.test.labels.txt").unlink()
    with pytest.raises(CorpusFormatError) as err:
        _read("n2c2-2019", "", root, splits=("test",))
    assert str(err.value.problem) == (
        f"clinicalSTS2019.test.txt: gold scores clinicalSTS2019.test.gs.sim.txt not found under {root} (nor "
        "clinicalSTS2019.test.labels.txt); unpack the test gold standard")


# --- i2b2-2012 test layout ----------------------------------------------------------------------------------

def test_i2b2_2012_test_gold_without_its_parent_folder() -> None:
    corpus = _read("i2b2-2012", "i2b2-2012--test-without-parent")
    assert corpus.problems == []
    [train], [test] = corpus.splits["train"], corpus.splits["test"]
    assert train.id == "2012-07-15.original-annotation.release/11"
    assert _spans(train) == [
        ("E0", "OCCURRENCE", ((0, 9),), "Admission"), ("E1", "OCCURRENCE", ((35, 43),), "admitted"),
        ("E2", "CLINICAL_DEPT", ((47, 54),), "the ICU"), ("E3", "PROBLEM", ((60, 66),), "sepsis")]
    assert test.id == "ground_truth/merged_xml/201"
    assert _spans(test) == [
        ("E0", "OCCURRENCE", ((0, 9),), "Discharge"), ("E1", "TEST", ((28, 41),), "A chest x-ray"),
        ("E2", "EVIDENTIAL", ((42, 48),), "showed"), ("E3", "PROBLEM", ((52, 62),), "infiltrate")]


@pytest.mark.parametrize("parent", ["2012-08-23.test-data.groundtruth", "downloads/i2b2/test"])
def test_i2b2_2012_test_gold_at_any_depth(tmp_path: Path, parent: str) -> None:
    root = _copy("i2b2-2012--test-without-parent", tmp_path)
    (root / parent).mkdir(parents=True)
    shutil.move(root / "ground_truth", root / parent / "ground_truth")
    corpus = _read("i2b2-2012", "", root, splits=("test",))
    assert corpus.problems == [] and [d.id for d in corpus.splits["test"]] == [f"{parent}/ground_truth/merged_xml/201"]


# --- i2b2-2014 re-saved files -------------------------------------------------------------------------------

def test_i2b2_2014_resaved_records_read_as_the_originals() -> None:
    raw = (VARIANTS / "i2b2-2014--resaved" / "training-PHI-Gold-Set1" / "200-01.xml").read_text(encoding="utf-8")
    assert raw.startswith("<?xml version='1.0' encoding='utf8'?>") and "CDATA" not in raw and "&lt;pager" in raw
    assert '<DATE TYPE="DATE" comment="" end="24" id="P0" start="14"' in raw  # attributes in another order
    corpus = _read("i2b2-2014", "i2b2-2014--resaved")
    assert corpus.problems == []
    [train], [test] = corpus.splits["train"], corpus.splits["test"]
    # the text is the unescaped note, and offsets count its characters (& < > one character each)
    assert train.text == ("\nRecord date: 2069-04-07\n\nPt Yarrow Pendleton, 71 y/o, seen at Brookfield & Vale "
                          "Clinic.\nBP < 90 on arrival; HR > 100.\nPCP: Dr. Imogen Tasker <pager 4417>\n")
    assert _spans(train) == [  # ids with gaps (P0 P2 P3 P7 P12 P13) are kept as they are
        ("P0", "DATE", ((14, 24),), "2069-04-07"), ("P2", "PATIENT", ((29, 45),), "Yarrow Pendleton"),
        ("P3", "AGE", ((47, 49),), "71"), ("P7", "HOSPITAL", ((63, 87),), "Brookfield & Vale Clinic"),
        ("P12", "DOCTOR", ((128, 141),), "Imogen Tasker"), ("P13", "PHONE", ((149, 153),), "4417")]
    assert test.id == "testing-PHI-Gold-fixed/210-01"
    assert test.text == "\n\nRecord date: 2070-01-02\nSeen by Dr. Quill at Harbor Clinic \u2014 follow-up in 2 weeks.\n"
    assert _spans(test) == [("P1", "DATE", ((15, 25),), "2070-01-02"), ("P4", "DOCTOR", ((38, 43),), "Quill"),
                            ("P9", "HOSPITAL", ((47, 60),), "Harbor Clinic")]
