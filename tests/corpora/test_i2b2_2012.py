from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, corpus_info
from mtclin.corpora.i2b2_2012 import LABELS, read
from mtclin.corpora.samples import i2b2_2012 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURES = Path(__file__).parent / "fixtures" / "i2b2-2012"
TRAIN = "2012-07-15.original-annotation.release"
TEST = "2012-08-23.test-data.groundtruth/ground_truth/merged_xml"
SECRET = "Zebediah"  # note text that must never show up in an error message


def surfaces(doc):
    return [(e.id, e.type, doc.text[e.start:e.end]) for e in doc.entities]


def test_golden_fixture_spans():
    corpus = read(FIXTURES)
    assert corpus.problems == []
    assert (corpus.name, corpus.kind, corpus.labels) == ("i2b2-2012", "ner", LABELS)
    one, two = corpus.splits["train"]
    assert (one.id, two.id) == (f"{TRAIN}/1", f"{TRAIN}/2")
    # The text is the CDATA content exactly; offsets are 1-based in the file; bare '&' in the text, in
    # text= and in a TLINK, '&amp;' in another text=; TIMEX3/TLINK/SECTIME ignored.
    assert one.text.startswith("Admission Date :\n2012-03-14\n") and one.text.endswith("R&D staff .\n")
    assert surfaces(one) == [
        ("E0", "OCCURRENCE", "Admission"), ("E1", "OCCURRENCE", "Discharge"), ("E2", "OCCURRENCE", "admitted"),
        ("E3", "CLINICAL_DEPT", "ICU"), ("E4", "PROBLEM", "chest pain"), ("E5", "TEST", "A CT A&P"),
        ("E6", "EVIDENTIAL", "showed"), ("E7", "PROBLEM", "abscess"), ("E8", "TREATMENT", "an I&D"),
    ]
    assert one.entities[0].fragments == ((0, 9),) and one.entities[5].fragments == ((138, 146),)
    # 2.xml is written with 0-based offsets: detected from text=.
    assert surfaces(two) == [
        ("E0", "OCCURRENCE", "transferred"), ("E1", "CLINICAL_DEPT", "cardiology"), ("E2", "TEST", "Echocardiogram"),
        ("E3", "EVIDENTIAL", "revealed"), ("E4", "PROBLEM", "a small effusion"),
    ]
    (test,) = corpus.splits["test"]
    assert test.id == f"{TEST}/101"
    assert surfaces(test) == [("E0", "OCCURRENCE", "Admission"), ("E1", "OCCURRENCE", "discharged"),
                              ("E2", "TREATMENT", "aspirin")]


def test_registered_under_its_name():
    assert corpus_info("i2b2-2012").read is read
    assert corpus_info("i2b2-2012").labels == ("CLINICAL_DEPT", "EVIDENTIAL", "OCCURRENCE", "PROBLEM", "TEST",
                                               "TREATMENT")


def test_any_nesting_and_split_selection(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "downloads" / "i2b2")
    corpus = read(tmp_path, splits=("test",))
    assert list(corpus.splits) == ["test"] and corpus.splits["test"][0].id == f"downloads/i2b2/{TEST}/101"


# --- sample corpus ----------------------------------------------------------------------------------------

def test_sample_reproduces_the_format(tmp_path):
    gold = sample.write(tmp_path, seed=2)
    docs = gold["train"] + gold["test"]
    raws = [p.read_text() for p in sorted(tmp_path.rglob("*.xml"))]
    assert len(raws) == len(docs)
    assert all(r.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<ClinicalNarrativeTemporalAnnotation>\n'
                            "<TEXT><![CDATA[") for r in raws)
    # Bare '&' in attributes, as in the release: not well-formed XML.
    assert any(' text="an I&D"' in r or ' text="a CT A&P"' in r or ' text="a D&C"' in r for r in raws)
    assert all("&amp;" not in r for r in raws)
    # 1-based offsets: the first EVENT "Admission" starts at 1.
    assert all('<EVENT id="E0" start="1" end="10" text="Admission"' in r for r in raws)
    assert set(LABELS) <= {e.type for d in docs for e in d.entities}
    for doc in docs:
        assert all(CANARY not in doc.text[e.start:e.end] for e in doc.entities)
    assert sum(CANARY in d.text for d in docs) >= 3


# --- bad input --------------------------------------------------------------------------------------------

TEXT = f"{SECRET} was admitted with chest pain .\n"
GOOD = [
    '<EVENT id="E0" start="14" end="22" text="admitted" modality="FACTUAL" polarity="POS" type="OCCURRENCE" />',
    '<EVENT id="E1" start="28" end="38" text="chest pain" modality="FACTUAL" polarity="POS" type="PROBLEM" />',
]
TAG_LINE = 8  # line of the third tag in _xml's layout


def _xml(tags: list[str], text: str = TEXT, root: str = "ClinicalNarrativeTemporalAnnotation") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>\n<TEXT><![CDATA[{text}]]></TEXT>\n<TAGS>\n'
            + "".join(t + "\n" for t in tags) + f"</TAGS>\n</{root}>\n")


def _write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / TRAIN / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize("tag, message", [
    ('<EVENT id="E2" start="30" end="999" text="x" type="PROBLEM" />', "span 29-998 lies outside the text"),
    ('<EVENT id="E2" start="30" end="25" text="x" type="PROBLEM" />', "reversed or empty span"),
    ('<EVENT id="E2" start="1" end="9" text="Jebediah" type="PROBLEM" />', "text= (8 characters) does not match"),
    ('<EVENT id="E2" start="1" end="9" text="Zebediah" type="PERSON" />', "unknown type 'PERSON'"),
    ('<EVENT id="E2" start="one" end="9" text="Zebediah" type="PROBLEM" />', "needs id and integer start/end"),
])
def test_bad_event(tmp_path, tag, message):
    _write(tmp_path, "1.xml", _xml(GOOD + [tag]))
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert str(err.value).startswith(f"{TRAIN}/1.xml:line {TAG_LINE}") and message in str(err.value)
    assert "EVENT E2" in str(err.value) and SECRET not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert [str(p) for p in corpus.problems] == [str(err.value.problem)]
    assert surfaces(corpus.splits["train"][0]) == [("E0", "OCCURRENCE", "admitted"), ("E1", "PROBLEM", "chest pain")]


def test_offset_convention_is_chosen_per_file_and_outliers_reported(tmp_path):
    zero_based = [t.replace('start="14" end="22"', 'start="13" end="21"')
                  .replace('start="28" end="38"', 'start="27" end="37"') for t in GOOD]
    # One EVENT still written 1-based in an otherwise 0-based file.
    odd = '<EVENT id="E2" start="1" end="9" text="Zebediah" type="PROBLEM" />'
    _write(tmp_path, "1.xml", _xml(zero_based + [odd]))
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert surfaces(corpus.splits["train"][0]) == [("E0", "OCCURRENCE", "admitted"), ("E1", "PROBLEM", "chest pain")]
    (problem,) = corpus.problems
    assert problem.position == f"line {TAG_LINE} (offset 1)" and "(file read as 0-based)" in problem.message


@pytest.mark.parametrize("content, where, message", [
    (_xml(GOOD + ['<EVENT id="E2" start="1" end="9"']), "line 9 (column 1)", "malformed XML"),
    (_xml(GOOD, root="deIdi2b2"), "line 2", "root element is <deIdi2b2>"),
    (_xml(GOOD).replace("<TAGS>\n", "").replace("</TAGS>\n", ""), "", "no <TAGS> element"),
    (_xml(GOOD).encode().replace(b"Zebediah", b"Zeb\xe9diah"), "line 3 (byte 96)", "not valid UTF-8"),
    (b"  \n", "", "file is empty"),
])
def test_unusable_file_is_skipped(tmp_path, content, where, message):
    _write(tmp_path, "1.xml", content)
    _write(tmp_path, "2.xml", _xml(GOOD))
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert err.value.problem.file == f"{TRAIN}/1.xml" and err.value.problem.position == where
    assert message in str(err.value) and SECRET not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert len(corpus.problems) == 1 and message in corpus.problems[0].message
    assert [d.id for d in corpus.splits["train"]] == [f"{TRAIN}/2"]


def test_bare_ampersands_and_unknown_entities_parse(tmp_path):
    text = f"{SECRET} had an I&D &nbsp; r&d ;\n"
    _write(tmp_path, "1.xml", _xml(['<EVENT id="E0" start="14" end="20" text="an I&D" type="TREATMENT" />'], text))
    doc = read(tmp_path, splits=("train",)).splits["train"][0]
    assert doc.text == text and surfaces(doc) == [("E0", "TREATMENT", "an I&D")]
