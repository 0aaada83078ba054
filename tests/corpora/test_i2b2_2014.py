from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, corpus_info
from mtclin.corpora.i2b2_2014 import CATEGORIES, LABELS, read
from mtclin.corpora.samples import i2b2_2014 as sample
from mtclin.corpora.samples.common import CANARY

FIXTURES = Path(__file__).parent / "fixtures" / "i2b2-2014"
SET1, SET2, TEST = "training-PHI-Gold-Set1", "training-PHI-Gold-Set2", "testing-PHI-Gold-fixed"
SECRET = "Zebediah"  # note text that must never show up in an error message


def surfaces(doc):
    return [(e.id, e.type, doc.text[e.start:e.end]) for e in doc.entities]


def test_golden_fixture_spans():
    corpus = read(FIXTURES)
    assert corpus.problems == []
    assert (corpus.name, corpus.kind, corpus.labels) == ("i2b2-2014", "ner", LABELS)
    one, two = corpus.splits["train"]
    assert (one.id, two.id) == (f"{SET1}/100-01", f"{SET2}/101-02")
    # The CDATA text starts with blank lines; the first DATE is at offset 16. Types are the TYPE subtypes.
    assert one.text.startswith("\n\n\nRecord date: 2067-05-03\n")
    assert one.entities[0].fragments == ((16, 26),)
    assert surfaces(one) == [
        ("P0", "DATE", "2067-05-03"), ("P1", "HOSPITAL", "MERCY CARE CENTER"), ("P2", "PATIENT", "Zebediah Quarles"),
        ("P3", "MEDICALRECORD", "7654321"), ("P4", "AGE", "62"), ("P5", "PATIENT", "Quarles"),
        ("P6", "PROFESSION", "welder"), ("P7", "ORGANIZATION", "Smith & Wesson"), ("P8", "STREET", "12 Harbor Road"),
        ("P9", "CITY", "Lowell"), ("P10", "STATE", "MA"), ("P11", "ZIP", "01852"), ("P12", "PHONE", "(617) 555-0198"),
        ("P13", "FAX", "617-555-0199"), ("P14", "DOCTOR", "Ann Lee"), ("P15", "USERNAME", "al23"),
    ]
    assert surfaces(two) == [("P0", "DATE", "2071-11-20"), ("P1", "DEPARTMENT", "Cardiology"), ("P2", "ROOM", "4B"),
                             ("P3", "EMAIL", "zq@example.org"), ("P4", "SSN", "123-45-6789")]
    (test,) = corpus.splits["test"]
    # Tags out of text order in the file come back sorted by offset.
    assert test.id == f"{TEST}/110-01"
    assert surfaces(test) == [("P0", "DATE", "2090-01-15"), ("P1", "DOCTOR", "Lee"), ("P2", "DATE", "01/16")]


def test_labels_are_the_sorted_subtypes():
    assert corpus_info("i2b2-2014").read is read
    assert LABELS == tuple(sorted(LABELS)) and len(LABELS) == 30
    assert {"PATIENT", "DOCTOR", "LOCATION-OTHER", "MEDICALRECORD", "IDNUM"} <= set(LABELS)
    assert sorted(s for subs in CATEGORIES.values() for s in subs) == list(LABELS)


def test_any_nesting_and_split_selection(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "n2c2" / "2014")
    corpus = read(tmp_path, splits=("train",))
    assert list(corpus.splits) == ["train"]
    assert [d.id for d in corpus.splits["train"]] == [f"n2c2/2014/{SET1}/100-01", f"n2c2/2014/{SET2}/101-02"]


# --- sample corpus ----------------------------------------------------------------------------------------

def test_sample_reproduces_the_format(tmp_path):
    gold = sample.write(tmp_path, seed=2)
    docs = gold["train"] + gold["test"]
    paths = sorted(tmp_path.rglob("*.xml"))
    assert {p.parent.name for p in paths} == {SET1, SET2, TEST}
    assert all(len(p.stem) == 6 and p.stem[3] == "-" and p.stem.replace("-", "").isdigit() for p in paths)
    raw = paths[0].read_text()
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<deIdi2b2>\n<TEXT><![CDATA[\n\n\nRecord date: ')
    assert '<DATE id="P0" start="16" end=' in raw and 'TYPE="DATE" comment="" />' in raw
    assert '<NAME id="' in raw and 'TYPE="PATIENT"' in raw
    types = {e.type for d in docs for e in d.entities}
    assert {"PATIENT", "DOCTOR", "HOSPITAL", "DATE", "PHONE", "MEDICALRECORD", "AGE"} <= types <= set(LABELS)
    for doc in docs:
        assert all(CANARY not in doc.text[e.start:e.end] for e in doc.entities)
    assert sum(CANARY in d.text for d in docs) >= 3


# --- bad input --------------------------------------------------------------------------------------------

TEXT = f"\n\n\nRecord date: 2067-05-03\nPatient {SECRET} Quarles, MRN 1234567\n"
GOOD = [
    '<DATE id="P0" start="16" end="26" text="2067-05-03" TYPE="DATE" comment="" />',
    '<NAME id="P1" start="35" end="51" text="Zebediah Quarles" TYPE="PATIENT" comment="" />',
]
TAG_LINE = 12  # line of the third tag in _xml's layout (the text holds 5 newlines)


def _xml(tags: list[str], text: str = TEXT, root: str = "deIdi2b2") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>\n<TEXT><![CDATA[{text}]]></TEXT>\n<TAGS>\n'
            + "".join(t + "\n" for t in tags) + f"</TAGS>\n</{root}>\n")


def _write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / SET1 / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize("tag, message", [
    ('<ID id="P2" start="57" end="99" text="1234567" TYPE="MEDICALRECORD" comment="" />',
     "span 57-99 lies outside the text (65 characters)"),
    ('<ID id="P2" start="64" end="57" text="1234567" TYPE="MEDICALRECORD" comment="" />', "reversed or empty span"),
    ('<ID id="P2" start="57" end="64" text="7654321" TYPE="MEDICALRECORD" comment="" />',
     "text= (7 characters) does not match the span 57-64"),
    ('<ID id="P2" start="57" end="64" text="1234567" TYPE="MRN" comment="" />', "unknown TYPE 'MRN'"),
    ('<ID id="P2" end="64" text="1234567" TYPE="MEDICALRECORD" comment="" />', "needs id and integer start/end"),
])
def test_bad_phi_tag(tmp_path, tag, message):
    _write(tmp_path, "100-01.xml", _xml(GOOD + [tag]))
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert str(err.value).startswith(f"{SET1}/100-01.xml:line {TAG_LINE}") and message in str(err.value)
    assert "<ID> P2" in str(err.value) and SECRET not in str(err.value) and "1234567" not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert [str(p) for p in corpus.problems] == [str(err.value.problem)]
    assert surfaces(corpus.splits["train"][0]) == [("P0", "DATE", "2067-05-03"), ("P1", "PATIENT", "Zebediah Quarles")]


@pytest.mark.parametrize("content, where, message", [
    (_xml(GOOD).replace("</TEXT>", "</TEXTS>"), "line 8 (column 6)", "malformed XML"),
    (_xml(GOOD, root="ClinicalNarrativeTemporalAnnotation"), "line 2", "expected <deIdi2b2>"),
    (_xml(GOOD).replace("<TEXT><![CDATA[", "<NOTE><![CDATA[").replace("</TEXT>", "</NOTE>"), "", "no <TEXT> element"),
    (_xml(GOOD).encode().replace(b"Zebediah", b"Zeb\xe9diah"), "line 7 (byte 104)", "not valid UTF-8"),
    (b"", "", "file is empty"),
])
def test_unusable_file_is_skipped(tmp_path, content, where, message):
    _write(tmp_path, "100-01.xml", content)
    _write(tmp_path, "100-02.xml", _xml(GOOD))
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert err.value.problem.file == f"{SET1}/100-01.xml" and err.value.problem.position == where
    assert message in str(err.value) and SECRET not in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert len(corpus.problems) == 1 and message in corpus.problems[0].message
    assert [d.id for d in corpus.splits["train"]] == [f"{SET1}/100-02"]
