"""Assertions and relations: the i2b2-2010 ``.ast``/``.rel`` files and the n2c2-2018 ``R`` lines (FORMATS.md).

Fixtures are written here, from the formats as documented, on synthetic notes (no real note text). Every value and
type parses and links to the right entity; a malformed line, an unknown concept or argument is a problem naming
file and line (never note text); lenient mode skips only that line; missing folders read without the layer and say
so; the sample generator round-trips and carries learnable cues; stats count it all.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from mtclin.cli import main
from mtclin.corpora import CorpusFormatError, corpus_info, read_corpus
from mtclin.corpora.brat import read_document as read_brat_document
from mtclin.corpora.i2b2_2010 import ASSERTION_VALUES, RELATION_TYPES
from mtclin.corpora.n2c2_2018 import RELATION_TYPES as N2C2_RELATION_TYPES
from mtclin.corpora.problems import ProblemLog
from mtclin.corpora.samples import write_sample
from mtclin.corpora.types import Assertion, Document, Entity, Relation
from mtclin.preprocess.link_stats import argument_distance, relation_stats
from mtclin.preprocess.stats import corpus_stats

SECRET = "Zebediah"  # stands for PHI in the notes: must never reach a message
BETH = "concept_assertion_relation_training_data/beth"
GOLD = "reference_standard_for_test_data"

# --- i2b2-2010 fixture: one line per assertion value and per relation type ----------------------------------

NOTE = "\n".join([
    f"Admission Date : {SECRET}",                          # 1
    "The patient denies chest pain .",                     # 2  absent
    "Chest x-ray showed possible pneumonia .",             # 3  possible, TeRP
    "She gets dyspnea when climbing stairs .",             # 4  conditional
    "Return if you develop fever .",                       # 5  hypothetical
    "Family history of diabetes in the mother .",          # 6  associated_with_someone_else
    "She was started on coumadin for afib .",              # 7  TrAP
    "Her rash improved with benadryl .",                   # 8  TrIP
    "Her edema worsened despite lasix .",                  # 9  TrWP
    "She developed hives after penicillin .",              # 10 TrCP
    "We held heparin because of bleeding .",               # 11 TrNAP
    "An echocardiogram was done to evaluate murmur .",     # 12 TeCP
    "Anemia caused by blood loss .",                       # 13 PIP
]) + "\n"
CONCEPTS = [  # .con lines, deliberately not in text order
    'c="pneumonia" 3:4 3:4||t="problem"', 'c="chest pain" 2:3 2:4||t="problem"',
    'c="chest x-ray" 3:0 3:1||t="test"', 'c="dyspnea" 4:2 4:2||t="problem"', 'c="fever" 5:4 5:4||t="problem"',
    'c="diabetes" 6:3 6:3||t="problem"', 'c="coumadin" 7:4 7:4||t="treatment"', 'c="afib" 7:6 7:6||t="problem"',
    'c="rash" 8:1 8:1||t="problem"', 'c="benadryl" 8:4 8:4||t="treatment"', 'c="edema" 9:1 9:1||t="problem"',
    'c="lasix" 9:4 9:4||t="treatment"', 'c="hives" 10:2 10:2||t="problem"',
    'c="penicillin" 10:4 10:4||t="treatment"', 'c="heparin" 11:2 11:2||t="treatment"',
    'c="bleeding" 11:5 11:5||t="problem"', 'c="an echocardiogram" 12:0 12:1||t="test"',
    'c="murmur" 12:6 12:6||t="problem"', 'c="anemia" 13:0 13:0||t="problem"',
    'c="blood loss" 13:3 13:4||t="problem"',
]
ASSERTED = {  # .con line of each problem -> value
    "chest pain": "absent", "pneumonia": "possible", "dyspnea": "conditional", "fever": "hypothetical",
    "diabetes": "associated_with_someone_else", "afib": "present", "rash": "present", "edema": "present",
    "hives": "present", "bleeding": "present", "murmur": "present", "anemia": "present", "blood loss": "present",
}
RELATED = [  # (first concept, type, second concept), written in the order of the .rel
    ("coumadin", "TrAP", "afib"), ("chest x-ray", "TeRP", "pneumonia"), ("benadryl", "TrIP", "rash"),
    ("lasix", "TrWP", "edema"), ("penicillin", "TrCP", "hives"), ("heparin", "TrNAP", "bleeding"),
    ("an echocardiogram", "TeCP", "murmur"), ("anemia", "PIP", "blood loss"),
]


def _reference(text: str) -> str:
    """The ``c="..." L:T L:T`` part of the .con line of concept ``text``."""
    return next(line.split("||")[0] for line in CONCEPTS if line.startswith(f'c="{text}" '))


def _line_of(text: str) -> str:
    """The entity id of concept ``text``: L<its line in the .con>."""
    prefix = f'c="{text}" '
    return f"L{next(n for n, line in enumerate(CONCEPTS, 1) if line.startswith(prefix))}"


AST = [f'{_reference(text)}||t="problem"||a="{value}"' for text, value in ASSERTED.items()]
REL = [f'{_reference(a)}||r="{kind}"||{_reference(b)}' for a, kind, b in RELATED]


def _release(root: Path, ast: list[str] | None = AST, rel: list[str] | None = REL, *, test: bool = True) -> Path:
    """A release with one train note (beth/record-1) and, with ``test``, the same note as test 0001; ``None``
    leaves the ast/ or rel/ folders out."""
    files = {f"{BETH}/txt/record-1.txt": NOTE, f"{BETH}/concept/record-1.con": CONCEPTS}
    if test:
        files |= {"test_data/0001.txt": NOTE, f"{GOLD}/concepts/0001.con": CONCEPTS}
    for lines, train_dir, test_dir, suffix in ((ast, "ast", "ast", ".ast"), (rel, "rel", "rel", ".rel")):
        if lines is not None:
            files[f"{BETH}/{train_dir}/record-1{suffix}"] = lines
            if test:
                files[f"{GOLD}/{test_dir}/0001{suffix}"] = lines
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else "".join(f"{line}\n" for line in content))
    return root


def _train(root: Path, lenient: bool = False) -> Document:
    (document,) = read_corpus("i2b2-2010", root, splits=("train",), lenient=lenient).splits["train"]
    return document


def test_every_assertion_value_and_relation_type_is_read_and_linked(tmp_path: Path):
    corpus = read_corpus("i2b2-2010", _release(tmp_path))
    assert corpus.problems == [] and corpus.notices == []
    assert (corpus.assertion_values, corpus.relation_types) == (ASSERTION_VALUES, RELATION_TYPES)
    assert set(ASSERTION_VALUES) == set(ASSERTED.values()) and set(RELATION_TYPES) == {k for _, k, _ in RELATED}
    info = corpus_info("i2b2-2010")
    assert (info.assertions, info.relations) == (ASSERTION_VALUES, RELATION_TYPES)
    for split in ("train", "test"):
        (doc,) = corpus.splits[split]
        by_id = {e.id: e for e in doc.entities}
        surface = {e.id: doc.text[e.start:e.end].lower() for e in doc.entities}
        assert {surface[a.entity]: a.value for a in doc.assertions} == ASSERTED
        assert all(by_id[a.entity].type == "problem" for a in doc.assertions)
        assert [(surface[r.arg1], r.type, surface[r.arg2]) for r in doc.relations] == sorted(
            RELATED, key=lambda r: [e.id for e in doc.entities].index(_line_of(r[0])))
        # ids: the entity's .con line; the relation's .rel line
        assert Assertion(_line_of("chest pain"), "absent") in doc.assertions
        assert Relation("R1", "TrAP", _line_of("coumadin"), _line_of("afib")) in doc.relations
        # canonical order: that of the entities they name
        order = [e.id for e in doc.entities]
        assert [order.index(a.entity) for a in doc.assertions] == sorted(order.index(a.entity) for a in doc.assertions)


def test_empty_assertion_and_relation_files_are_valid(tmp_path: Path):
    document = _train(_release(tmp_path, ast=[], rel=[], test=False))
    assert document.assertions == () and document.relations == () and len(document.entities) == len(CONCEPTS)


# --- bad lines: file and line named, no note text, lenient skips the line only -------------------------------

AST_LINE = len(AST) + 1  # the bad line is appended
REL_LINE = len(REL) + 1


@pytest.mark.parametrize(("bad_line", "message"), [
    ('c="fever" 5:4||t="problem"||a="absent"', "unparsable assertion line"),
    ('c="fever" 5:4 5:4||t="problem"', "unparsable assertion line"),
    ('c="fever" 1:3 1:3||t="problem"||a="absent"', "quoted text (5 characters) does not match the tokens it "
                                                   "points to (8 characters at offset 17)"),
    (f'c="{SECRET.lower()}" 1:3 1:3||t="problem"||a="absent"', "no concept at these tokens in record-1.con"),
    ('c="fever" 5:4 5:4||t="problem"||a="negated"', "unknown assertion value 'negated'"),
    ('c="fever" 5:4 5:4||t="problem"||a="absent and possibly more"', "unknown assertion value of 24 characters"),
    ('c="coumadin" 7:4 7:4||t="treatment"||a="present"', "assertions are on problems only"),
    ('c="the patient" 2:0 2:1||t="problem"||a="absent"', "no concept at these tokens in record-1.con"),
    ('c="chest x-ray" 3:0 3:1||t="problem"||a="absent"', "is a test, expected a problem"),
    ('c="fever" 5:4 5:4||t="problem"||a="absent"', "already asserted at line 4"),
    ('c="fever" 9:9 9:9||t="problem"||a="absent"', "token 9 is past the end of line 9"),
])
def test_bad_assertion_line(tmp_path: Path, bad_line: str, message: str):
    root = _release(tmp_path, ast=[*AST, bad_line], test=False)
    with pytest.raises(CorpusFormatError) as err:
        _train(root)
    assert str(err.value).startswith(f"{BETH}/ast/record-1.ast:line {AST_LINE}: ") and message in str(err.value)
    assert SECRET.lower() not in str(err.value).lower()
    corpus = read_corpus("i2b2-2010", root, splits=("train",), lenient=True)
    assert [str(p) for p in corpus.problems] == [str(err.value.problem)]
    assert {a.value for a in corpus.splits["train"][0].assertions} == set(ASSERTION_VALUES)  # the others kept


@pytest.mark.parametrize(("bad_line", "message"), [
    ('c="coumadin" 7:4 7:4||r="TrAP"', "unparsable relation line"),
    ('c="coumadin" 7:4 7:4||r="TrAP"||c="afib" 7:6', "unparsable relation line"),
    ('c="coumadin" 7:4 7:4||r="TrXP"||c="afib" 7:6 7:6', "unknown relation type 'TrXP'"),
    ('c="coumadin" 7:4 7:4||r="TrAP"||c="she was" 7:0 7:1', "concept 7:0 7:1: no concept at these tokens"),
    ('c="afib" 7:6 7:6||r="TrAP"||c="coumadin" 7:4 7:4', "concept 7:6 7:6: the record-1.con concept at these "
                                                         "tokens is a problem, expected a treatment"),
    ('c="chest x-ray" 3:0 3:1||r="TrAP"||c="pneumonia" 3:4 3:4', "is a test, expected a treatment"),
    ('c="coumadin" 7:4 7:4||r="TrAP"||c="afib" 7:6 7:6', "the same relation as line 1"),
    ('c="anemia" 13:0 13:0||r="PIP"||c="anemia" 13:0 13:0', "both arguments are the same concept"),
    ('c="coumadin" 7:4 7:4||r="TrAP"||c="fever" 1:3 1:3', "quoted text (5 characters) does not match"),
    (f'c="coumadin" 7:4 7:4||r="TrAP"||c="{SECRET.lower()}" 1:3 1:3', "concept 1:3 1:3: no concept at these"),
])
def test_bad_relation_line(tmp_path: Path, bad_line: str, message: str):
    root = _release(tmp_path, rel=[*REL, bad_line], test=False)
    with pytest.raises(CorpusFormatError) as err:
        _train(root)
    assert str(err.value).startswith(f"{BETH}/rel/record-1.rel:line {REL_LINE}: ") and message in str(err.value)
    assert SECRET.lower() not in str(err.value).lower()
    corpus = read_corpus("i2b2-2010", root, splits=("train",), lenient=True)
    assert [str(p) for p in corpus.problems] == [str(err.value.problem)]
    assert len(corpus.splits["train"][0].relations) == len(REL)


def test_a_concept_skipped_in_lenient_mode_takes_its_assertion_and_relation_along(tmp_path: Path):
    broken = [line.replace('t="problem"', 't="disease"') if line.startswith('c="afib"') else line for line in CONCEPTS]
    root = _release(tmp_path, test=False)
    (root / BETH / "concept" / "record-1.con").write_text("".join(f"{line}\n" for line in broken))
    with pytest.raises(CorpusFormatError, match=r"record-1.con:line 8: concept 7:6 7:6: unknown type 'disease'"):
        _train(root)
    corpus = read_corpus("i2b2-2010", root, splits=("train",), lenient=True)
    where = [f"{p.file}:{p.position}" for p in corpus.problems]
    assert where == [f"{BETH}/concept/record-1.con:line 8", f"{BETH}/ast/record-1.ast:line 6",
                     f"{BETH}/rel/record-1.rel:line 1"]
    assert all("or its line there was skipped as broken" in p.message for p in corpus.problems[1:])
    (doc,) = corpus.splits["train"]
    assert len(doc.assertions) == len(AST) - 1 and len(doc.relations) == len(REL) - 1


# --- missing folders and files --------------------------------------------------------------------------------

def test_missing_ast_and_rel_folders_read_without_them_and_say_so(tmp_path: Path, capsys):
    root = _release(tmp_path, ast=None, rel=None)
    corpus = read_corpus("i2b2-2010", root)
    assert corpus.problems == []
    assert all(d.assertions == () == d.relations and d.entities for docs in corpus.splits.values() for d in docs)
    assert [n.message for n in corpus.notices] == [
        "split 'train': no assertion files (concept_assertion_relation_training_data/*/ast/*.ast) found: "
        "read without assertions",
        "split 'train': no relation files (concept_assertion_relation_training_data/*/rel/*.rel) found: "
        "read without relations",
        f"split 'test': no assertion files ({GOLD}/ast/*.ast) found: read without assertions",
        f"split 'test': no relation files ({GOLD}/rel/*.rel) found: read without relations",
    ]
    stats = corpus_stats(corpus)
    assert stats["notices"]["count"] == 4 and stats["splits"]["train"]["assertions"]["read"] == 0
    assert main(["inspect", "i2b2-2010", str(root)]) == 0
    out = capsys.readouterr().out
    assert "notice: split 'test': no relation files" in out and "problems: 0" in out


def test_only_the_test_gold_without_ast(tmp_path: Path):
    root = _release(tmp_path)
    shutil.rmtree(root / GOLD / "ast")
    corpus = read_corpus("i2b2-2010", root)
    assert corpus.problems == [] and [n.message.split(":")[0] for n in corpus.notices] == ["split 'test'"]
    assert corpus.splits["train"][0].assertions and not corpus.splits["test"][0].assertions
    assert corpus.splits["test"][0].relations


def test_a_note_without_its_ast_where_others_have_one_is_a_problem(tmp_path: Path):
    root = _release(tmp_path, test=False)
    for suffix, sub in ((".txt", "txt"), (".con", "concept"), (".rel", "rel")):  # record-2: all but its .ast
        shutil.copy(root / BETH / sub / f"record-1{suffix}", root / BETH / sub / f"record-2{suffix}")
    shutil.copy(root / BETH / "ast" / "record-1.ast", root / BETH / "ast" / "record-3.ast")  # an orphan
    with pytest.raises(CorpusFormatError) as err:
        read_corpus("i2b2-2010", root, splits=("train",))
    assert str(err.value).startswith(f"{BETH}/ast/record-3.ast: assertion file without its .txt")
    corpus = read_corpus("i2b2-2010", root, splits=("train",), lenient=True)
    assert [p.file for p in corpus.problems] == [f"{BETH}/ast/record-3.ast", f"{BETH}/txt/record-2.txt"]
    assert "without its .ast assertion file" in corpus.problems[1].message
    first, second = corpus.splits["train"]
    assert first.assertions and second.assertions == () and second.relations == first.relations


# --- n2c2-2018 R lines ------------------------------------------------------------------------------------------

N2C2_FIXTURE = Path(__file__).parent / "fixtures" / "n2c2-2018"
MED = f"{SECRET} takes aspirin 81 mg PO daily for chest pain.\n"
#      aspirin = 15-22, 81 mg = 23-28, PO = 29-31, daily = 32-37, chest pain = 42-52
MED_ANN = ["T1\tDrug 15 22\taspirin", "T2\tStrength 23 28\t81 mg", "T3\tRoute 29 31\tPO",
           "T4\tFrequency 32 37\tdaily", "T5\tReason 42 52\tchest pain", "R1\tStrength-Drug Arg1:T2 Arg2:T1",
           "R2\tRoute-Drug Arg2:T1 Arg1:T3", "R3\tReason-Drug Arg1:T5 Arg2:T1"]


def _n2c2(root: Path, ann: list[str], train_ann: list[str] | None = None) -> Path:
    """Note 100 in train and test, with ``ann`` (train: ``train_ann`` where given)."""
    for folder, lines in (("training_20180910", train_ann or ann), ("gold-standard-test-data/test", ann)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "100.txt").write_text(MED)
        (root / folder / "100.ann").write_text("".join(f"{line}\n" for line in lines))
    return root


def test_n2c2_relations_of_the_golden_fixture():
    corpus = read_corpus("n2c2-2018", N2C2_FIXTURE)
    assert corpus.problems == [] and corpus.relation_types == N2C2_RELATION_TYPES
    assert set(N2C2_RELATION_TYPES) == {f"{t}-Drug" for t in
                                        ("Strength", "Dosage", "Duration", "Frequency", "Form", "Route", "Reason",
                                         "ADE")}
    (train,), (test,) = corpus.splits["train"], corpus.splits["test"]
    assert train.relations == (  # ordered by where Arg1 lies (entity order), not by id
        Relation("R1", "Strength-Drug", "T4", "T3"), Relation("R2", "Reason-Drug", "T2", "T3"),
        Relation("R3", "ADE-Drug", "T8", "T7"), Relation("R4", "Form-Drug", "T17", "T15"),
    )
    assert test.relations == (Relation("R1", "Strength-Drug", "T2", "T1"),)


def test_n2c2_relations_by_role_name_in_either_order(tmp_path: Path):
    corpus = read_corpus("n2c2-2018", _n2c2(tmp_path, MED_ANN))
    assert corpus.problems == []
    assert corpus.splits["train"][0].relations == (
        Relation("R1", "Strength-Drug", "T2", "T1"), Relation("R2", "Route-Drug", "T3", "T1"),
        Relation("R3", "Reason-Drug", "T5", "T1"))


@pytest.mark.parametrize(("bad_line", "message"), [
    ("R4\tFrequency-Drug Arg1:T4", "malformed 'R' annotation line"),
    ("R4\tFrequency-Dose Arg1:T4 Arg2:T1", "R4: unknown relation type 'Frequency-Dose'"),
    ("R4\tFrequency-Drug Arg1:T9 Arg2:T1", "R4: Arg1 T9: no T line of this file defines it"),
    ("R4\tFrequency-Drug Arg1:T4 Arg2:E1", "R4: Arg2 'E1' is not a T id"),
    ("R4\tFrequency-Drug Arg1:T4 Arg3:T1", "R4: its roles must be Arg1 and Arg2"),
    ("R4\tFrequency-Drug Arg1:T1 Arg2:T4", "R4: Arg1 T1 is a Drug, but Frequency-Drug takes a Frequency there"),
    ("R4\tStrength-Drug Arg1:T4 Arg2:T1", "R4: Arg1 T4 is a Frequency, but Strength-Drug takes a Strength there"),
    ("R3\tFrequency-Drug Arg1:T4 Arg2:T1", "R3: id already used earlier in this file"),
])
def test_bad_n2c2_relation(tmp_path: Path, bad_line: str, message: str):
    root = _n2c2(tmp_path, MED_ANN, [*MED_ANN, bad_line])
    with pytest.raises(CorpusFormatError) as err:
        read_corpus("n2c2-2018", root)
    assert str(err.value).startswith("training_20180910/100.ann:line 9: ") and message in str(err.value)
    assert SECRET not in str(err.value) and "aspirin" not in str(err.value)
    corpus = read_corpus("n2c2-2018", root, lenient=True)
    assert [f"{p.file}:{p.position}" for p in corpus.problems] == ["training_20180910/100.ann:line 9"]
    assert len(corpus.splits["train"][0].relations) == 3 and len(corpus.splits["test"][0].relations) == 3


def test_n2c2_relation_to_a_broken_entity_says_why(tmp_path: Path):
    ann = [line.replace("T3\tRoute 29 31", "T3\tRoute 29 99") for line in MED_ANN]
    corpus = read_corpus("n2c2-2018", _n2c2(tmp_path, ann), lenient=True)
    messages = [f"{p.position}: {p.message}" for p in corpus.problems if p.file.startswith("training")]
    assert messages[0].startswith("line 3 (offsets 29-99): T3 Route: fragment 29-99 ends past the end")
    assert messages[1] == ("line 7: R2: Arg1 T3: its T line was skipped as broken (see the problem reported for "
                           "it); relation skipped")


def test_generic_brat_readers_check_r_lines_but_keep_no_relations(tmp_path: Path):
    (tmp_path / "n.txt").write_text(MED)
    (tmp_path / "n.ann").write_text("".join(f"{line}\n" for line in [*MED_ANN, "R9\tTreats Arg1:T77 Arg2:E1"]))
    log = ProblemLog(tmp_path)
    document = read_brat_document(tmp_path / "n.txt", tmp_path / "n.ann", None, log)
    assert document is not None and len(document.entities) == 5 and document.relations == () and not log.problems
    declared = Path(__file__).parent / "fixtures" / "declared"
    shutil.copy(declared / "corpora.yaml", tmp_path / "corpora.yaml")
    shutil.copytree(declared / "ward-notes", tmp_path / "data" / "ward-notes")
    corpus = read_corpus("ward-notes", tmp_path / "data" / "ward-notes", project_dir=tmp_path)
    assert "R1\tTreats" in (tmp_path / "data/ward-notes/standoff/train/note-001.ann").read_text()
    assert corpus.problems == [] and corpus.relation_types == ()
    assert all(d.relations == () for docs in corpus.splits.values() for d in docs)


# --- sample corpora: exact formats, round trip, learnable cues -------------------------------------------------

CONCEPT_REF = r'c="[^"\n]+" \d+:\d+ \d+:\d+'
AST_FORMAT = re.compile(CONCEPT_REF + r'\|\|t="problem"\|\|a="(' + "|".join(ASSERTION_VALUES) + ')"')
REL_FORMAT = re.compile(CONCEPT_REF + r'\|\|r="(' + "|".join(RELATION_TYPES) + r')"\|\|' + CONCEPT_REF)


@pytest.fixture(scope="module")
def i2b2_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("i2b2-2010")
    return root, write_sample("i2b2-2010", root, seed=0)


def test_i2b2_sample_writes_the_official_formats_and_reads_back(i2b2_sample):
    root, gold = i2b2_sample
    for path in root.rglob("*.ast"):
        assert all(AST_FORMAT.fullmatch(line) for line in path.read_text().splitlines()), path
    for path in root.rglob("*.rel"):
        assert all(REL_FORMAT.fullmatch(line) for line in path.read_text().splitlines()), path
    corpus = read_corpus("i2b2-2010", root)
    assert corpus.problems == [] and corpus.notices == []
    for split in ("train", "test"):
        assert [(d.assertions, d.relations) for d in corpus.splits[split]] == [
            (d.assertions, d.relations) for d in gold[split]]
    documents = gold["train"] + gold["test"]
    assert {a.value for d in documents for a in d.assertions} == set(ASSERTION_VALUES)
    assert {r.type for d in documents for r in d.relations} == set(RELATION_TYPES)
    # every problem asserted, nothing else
    assert all({a.entity for a in d.assertions} == {e.id for e in d.entities if e.type == "problem"}
               for d in documents)


CUES = {  # a word on the problem's line that tells its value
    "absent": ("denies", "no"), "possible": ("possible", "?"), "conditional": ("when", "exertion"),
    "hypothetical": ("if",), "associated_with_someone_else": ("Family",),
}


def test_i2b2_sample_assertions_carry_their_cues(i2b2_sample):
    _, gold = i2b2_sample
    for doc in gold["train"] + gold["test"]:
        by_id = {e.id: e for e in doc.entities}
        for assertion in doc.assertions:
            entity = by_id[assertion.entity]
            line = doc.text[doc.text.rfind("\n", 0, entity.start) + 1:doc.text.find("\n", entity.end)]
            words = set(line.split(" "))
            cued = [value for value, cues in CUES.items() if words & set(cues)]
            assert cued == ([] if assertion.value == "present" else [assertion.value]), (assertion, len(line))


def test_n2c2_sample_links_attributes_to_a_near_drug_and_reads_back(tmp_path: Path):
    gold = write_sample("n2c2-2018", tmp_path, seed=0)
    corpus = read_corpus("n2c2-2018", tmp_path)
    assert corpus.problems == []
    assert [d.relations for d in corpus.splits["train"]] == [d.relations for d in gold["train"]]
    documents = gold["train"] + gold["test"]
    assert {r.type for d in documents for r in d.relations} == set(N2C2_RELATION_TYPES)
    distances = []
    for doc in documents:
        by_id = {e.id: e for e in doc.entities}
        for relation in doc.relations:
            attribute, drug = by_id[relation.arg1], by_id[relation.arg2]
            assert drug.type == "Drug" and relation.type == f"{attribute.type}-Drug"
            distances.append(argument_distance(doc, attribute, drug))
        linked = {r.arg1 for r in doc.relations}  # every attribute of a line with a Drug is linked
        assert all(e.id in linked for e in doc.entities if e.type != "Drug" and any(
            d.type == "Drug" and doc.text.count("\n", min(d.start, e.start), max(d.start, e.start)) == 0
            for d in doc.entities))
    assert max(chars for chars, _ in distances) < 120 and {lines for _, lines in distances} == {0, 1}


# --- stats -------------------------------------------------------------------------------------------------------

def test_argument_distances_in_characters_and_lines():
    text = "aspirin 81 mg\nfor pain\n\nlater rash"
    #       0-7 aspirin, 8-13 81 mg, 18-22 pain, 30-34 rash
    entities = (Entity("T1", "Drug", ((0, 7),)), Entity("T2", "Strength", ((8, 13),)),
                Entity("T3", "Reason", ((18, 22),)), Entity("T4", "ADE", ((30, 34),)))
    relations = (Relation("R1", "Strength-Drug", "T2", "T1"), Relation("R2", "Reason-Drug", "T3", "T1"),
                 Relation("R3", "ADE-Drug", "T4", "T1"))
    doc = Document("d", text, entities, relations=relations)
    by_id = {e.id: e for e in entities}
    assert [argument_distance(doc, by_id[r.arg1], by_id[r.arg2]) for r in relations] == [(1, 0), (11, 1), (23, 3)]
    stats = relation_stats([doc], ("ADE-Drug", "Reason-Drug", "Strength-Drug", "Form-Drug"))
    assert stats["read"] == 3
    assert stats["per_type"] == {"ADE-Drug": 1, "Form-Drug": 0, "Reason-Drug": 1, "Strength-Drug": 1}
    distance = stats["argument_distance"]
    assert distance["chars"] == {"p50": 11, "p90": 23, "p95": 23, "p99": 23, "max": 23}
    assert distance["lines"]["max"] == 3 and distance["same_line_share"] == pytest.approx(1 / 3)
    assert distance["share_within_chars"]["0"] == 0 and distance["share_within_chars"]["25"] == 1
    assert distance["share_within_lines"]["1"] == pytest.approx(2 / 3)
    assert stats["argument_distance_per_type"]["Form-Drug"]["chars"]["max"] is None
    json.dumps(stats)  # DVC metrics: plain JSON


def test_corpus_stats_count_assertions_and_relations_per_split(tmp_path: Path):
    stats = corpus_stats(read_corpus("i2b2-2010", _release(tmp_path)))
    for split in ("train", "test"):
        s = stats["splits"][split]
        assert s["assertions"]["read"] == len(AST)
        assert s["assertions"]["per_value"] == {
            value: sum(v == value for v in ASSERTED.values()) for value in sorted(ASSERTION_VALUES)}
        assert s["relations"]["per_type"] == {kind: 1 for kind in sorted(RELATION_TYPES)}
        assert s["relations"]["argument_distance"]["same_line_share"] == 1.0
    assert stats["notices"] == {"count": 0, "items": []}
    quaero = corpus_stats(read_corpus("quaero-2014", Path(__file__).parent / "fixtures" / "quaero-2014"))
    assert all("assertions" not in s and "relations" not in s for s in quaero["splits"].values())
