from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, corpus_info
from mtclin.corpora.i2b2_2010 import LABELS, parse_concept, read
from mtclin.corpora.samples import i2b2_2010 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURES = Path(__file__).parent / "fixtures" / "i2b2-2010"
BETH = "concept_assertion_relation_training_data/beth"
SECRET = "Zebediah"  # note text that must never show up in an error message


def surfaces(doc):
    return [(e.id, e.type, doc.text[e.start:e.end]) for e in doc.entities]


def test_golden_fixture_spans():
    corpus = read(FIXTURES)
    assert corpus.problems == []
    assert (corpus.name, corpus.kind, corpus.labels) == ("i2b2-2010", "ner", LABELS)
    train, test = corpus.splits["train"], corpus.splits["test"]
    assert [d.id for d in train] == [f"{BETH}/txt/record-13",
                                     "concept_assertion_relation_training_data/partners/txt/018636330_DH"]
    # A concept across a line break, quotes inside the concept text, a double space (an empty token that
    # counts), and .con lines out of text order.
    assert surfaces(train[0]) == [
        ("L2", "problem", "coronary artery\ndisease"),
        ("L4", "problem", '"bad" cough'),
        ("L3", "treatment", "aspirin  325 mg"),
        ("L1", "problem", "chest pain"),
    ]
    assert train[0].entities[0].fragments == ((95, 118),)
    assert surfaces(train[1]) == [("L2", "test", "Blood cultures"), ("L1", "treatment", "vancomycin")]
    assert [d.id for d in test] == ["test_data/0001"]
    assert surfaces(test[0]) == [("L1", "test", "Chest x-ray"), ("L2", "problem", "pneumonia")]


def test_registered_under_its_name():
    info = corpus_info("i2b2-2010")
    assert info.read is read and info.labels == ("problem", "test", "treatment")


def test_parse_concept_keeps_inner_quotes():
    concept = parse_concept('c="the "bad" cough" 3:1 3:4||t="problem"')
    assert concept is not None
    assert (concept.text, concept.first, concept.last, concept.type) == ('the "bad" cough', (3, 1), (3, 4), "problem")
    assert parse_concept('c="cough" 3:1||t="problem"') is None


def test_any_nesting_above_the_release_and_split_selection(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "2010_relations_challenge")
    # The test gold archive unpacked somewhere else than the test text.
    gold = tmp_path / "2010_relations_challenge" / "reference_standard_for_test_data"
    (tmp_path / "gold").mkdir()
    gold.rename(tmp_path / "gold" / gold.name)
    corpus = read(tmp_path, splits=("test",))
    assert list(corpus.splits) == ["test"] and corpus.problems == []
    (doc,) = corpus.splits["test"]
    assert doc.id == "2010_relations_challenge/test_data/0001" and len(doc.entities) == 2
    train = read(tmp_path, splits=("train",)).splits["train"]
    assert [d.id for d in train][0] == f"2010_relations_challenge/{BETH}/txt/record-13"


def test_crlf_lines_keep_the_carriage_return_out_of_tokens(tmp_path):
    _write(tmp_path, "x", "Started on vancomycin\r\nno fever\r\n",
           'c="vancomycin" 1:2 1:2||t="treatment"\nc="fever" 2:1 2:1||t="problem"\n')
    doc = read(tmp_path, splits=("train",)).splits["train"][0]
    assert surfaces(doc) == [("L1", "treatment", "vancomycin"), ("L2", "problem", "fever")]


# --- sample corpus ----------------------------------------------------------------------------------------

def test_sample_reproduces_the_format(tmp_path):
    gold = sample.write(tmp_path, seed=1)
    docs = gold["train"] + gold["test"]
    assert any("\n" in d.text[e.start:e.end] for d in docs for e in d.entities), "no multi-line concept"
    for doc in docs:
        assert all(line == " ".join(line.split()) for line in doc.text.split("\n")), "not single-spaced tokens"
        assert all(CANARY not in doc.text[e.start:e.end] for e in doc.entities)
        assert {e.type for e in doc.entities} <= set(LABELS)
    assert sum(CANARY in d.text for d in docs) >= 3
    assert (tmp_path / BETH / "ast").is_dir() and (tmp_path / "reference_standard_for_test_data/rel").is_dir()
    con = next((tmp_path / BETH / "concept").glob("*.con")).read_text()
    assert con == con.lower() and con.startswith('c="')


# --- bad input --------------------------------------------------------------------------------------------

NOTE = f"{SECRET} has chest pain today\nno fever\n"
GOOD = 'c="chest pain" 1:2 1:3||t="problem"'


def _write(root: Path, stem: str, text: str | bytes, con: str | None) -> None:
    for sub, name, content in (("txt", f"{stem}.txt", text), ("concept", f"{stem}.con", con)):
        if content is not None:
            path = root / BETH / sub / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())


def _corpus_with(root: Path, bad_con_line: str) -> None:
    _write(root, "a", NOTE, f"{GOOD}\n{bad_con_line}\n")
    _write(root, "b", "no fever\n", 'c="fever" 1:1 1:1||t="problem"\n')


@pytest.mark.parametrize("line, message", [
    ('c="chest pain" 1:2||t="problem"', "unparsable concept line"),
    ('c="chest pain" 1:2 1:3||t="disease"', "unknown type 'disease'"),
    ('c="today" 1:9 1:9||t="problem"', "token 9 is past the end of line 1 (5 tokens)"),
    ('c="today" 7:0 7:0||t="problem"', "line 7 is outside the text"),
    ('c="chest pain" 1:3 1:2||t="problem"', "reversed span"),
    (f'c="{SECRET.lower()} has" 1:1 1:2||t="problem"', "does not match"),
])
def test_bad_concept_line(tmp_path, line, message):
    _corpus_with(tmp_path, line)
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert f"{BETH}/concept/a.con:line 2: " in str(err.value)
    assert message in str(err.value)
    assert SECRET.lower() not in str(err.value).lower() and "chest" not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert [str(p) for p in corpus.problems] == [str(err.value.problem)]
    a, b = corpus.splits["train"]
    assert surfaces(a) == [("L1", "problem", "chest pain")] and surfaces(b) == [("L1", "problem", "fever")]


@pytest.mark.parametrize("text, con, where, message", [
    (f"{SECRET} \xff\n".encode("latin-1"), GOOD, f"{BETH}/txt/a.txt:line 1 (byte 9)", "not valid UTF-8"),
    (b"", GOOD, f"{BETH}/txt/a.txt", "file is empty"),
    (NOTE, "\n", f"{BETH}/concept/a.con", "file is empty"),
    (NOTE, None, f"{BETH}/txt/a.txt", "without its .con"),
    (None, GOOD, f"{BETH}/concept/a.con", "without its .txt"),
])
def test_unusable_file_is_skipped(tmp_path, text, con, where, message):
    _write(tmp_path, "a", text, con)
    _write(tmp_path, "b", "no fever\n", 'c="fever" 1:1 1:1||t="problem"\n')
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert str(err.value).startswith(f"{where}: ") and message in str(err.value)
    assert SECRET not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert len(corpus.problems) == 1 and message in corpus.problems[0].message
    assert [d.id for d in corpus.splits["train"]] == [f"{BETH}/txt/b"]
