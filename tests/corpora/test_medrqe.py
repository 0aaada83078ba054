from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, Pair, corpus_info
from mtclin.corpora.medrqe import read
from mtclin.corpora.samples import medrqe as sample
from mtclin.corpora.samples.common import CANARY

FIXTURE = Path(__file__).parent / "fixtures" / "medrqe"
TRAIN = "rqe_release/RQE_Train_8588_AMIA2016.xml"
SECRET = "Zyxwvut has a rash"  # stands for question text: must never reach a message

GOLD_TRAIN = [
    Pair("1", "How should I treat polymenorrhea in a 14-year-old girl?",
         "How should I treat polymenorrhea in a 14-year-old girl?", label="true"),
    # ends stripped, inner double spaces kept, the release's double escaping undone
    Pair("2",
         "72-year-old woman with chronic lymphocytic leukemia, white blood count>100,000.  How should I treat her?",
         "What are the side effects of Florinef?  Could it cause headaches?", label="false"),
    # text of nested tags kept, single-escaped &amp; and CDATA decoded, value case normalised
    Pair("3", "Is tinea contagious & for how long?", "Is tinea <contagious>?", label="true"),
    # a blank FAQ is kept, as training pair 5860 of the release
    Pair("4", 'The question was, "How aggressive should I get?"', "", label="true"),
]
GOLD_TEST = [Pair("1", "I have been taking metformin and my feet hurt.  Is it the medicine?", "What is gout?",
                  label="false")]

GOOD_PAIR = """<pair pid="{pid}" type="originalQ-shortQ" value="true">
<chq>
   Is psoriasis contagious?
</chq>
<faq>
   Is psoriasis contagious?
</faq>
</pair>"""


def _train_file(tmp_path: Path, bad: str = "", root_tag: str = "RQE-med-train") -> Path:
    """A corpus root whose train file holds a good pair (lines 3-10), ``bad`` (from line 11), a good pair."""
    root = tmp_path / "data"
    root.mkdir()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{root_tag}>", GOOD_PAIR.format(pid=1), bad,
             GOOD_PAIR.format(pid=100), f"</{root_tag}>", ""]
    (root / "RQE_Train_8588_AMIA2016.xml").write_text("\n".join(line for line in lines if line or line is lines[-1]),
                                                       encoding="utf-8")
    return root


def _good(pid: str) -> Pair:
    return Pair(pid, "Is psoriasis contagious?", "Is psoriasis contagious?", label="true")


def test_registered_as_binary_nli() -> None:
    info = corpus_info("medrqe")
    assert (info.kind, info.labels, info.read) == ("nli", ("false", "true"), read)


def test_golden_fixture() -> None:
    corpus = read(FIXTURE)
    assert corpus.splits == {"train": GOLD_TRAIN, "test": GOLD_TEST}
    assert corpus.problems == []


def test_real_training_file(shared_corpora: Path) -> None:
    corpus = read(shared_corpora / "medrqe", splits=("train",))
    pairs = corpus.splits["train"]
    assert len(pairs) == 8588 and corpus.problems == []
    assert Counter(pair.label for pair in pairs) == {"true": 4655, "false": 3933}
    assert [pair.id for pair in pairs] == [str(pid) for pid in range(1, 8589)]
    assert pairs[0] == Pair("1", "How should I treat polymenorrhea in a 14-year-old girl?",
                            "How should I treat polymenorrhea in a 14-year-old girl?", label="true")
    assert all(pair.a == pair.a.strip() and pair.b == pair.b.strip() for pair in pairs)
    assert not any("&gt;" in pair.a or "&lt;" in pair.a for pair in pairs)
    assert sum("count>100,000" in pair.a for pair in pairs) == 1
    assert [pair.id for pair in pairs if not pair.b] == ["5860"]  # the release's one blank FAQ


@pytest.mark.parametrize("seed", [0, 9])
def test_sample_reproduces_the_release(tmp_path: Path, seed: int) -> None:
    gold = sample.write(tmp_path, seed=seed)  # read back exactly: tests/corpora/test_contract.py
    assert (len(gold["train"]), len(gold["test"])) == (240, 60)
    train = gold["train"]
    assert 0.48 <= sum(pair.label == "true" for pair in train) / len(train) <= 0.62
    assert [pair.id for pair in train] == [str(pid) for pid in range(1, 241)]
    assert any(">" in pair.a for pair in train)  # written double-escaped, like the release
    assert sum(not pair.b for pair in train) == 1
    assert all(any(CANARY in pair.a for pair in gold[split]) for split in ("train", "test"))
    text = (tmp_path / "RQE_Train_8588_AMIA2016.xml").read_text(encoding="utf-8")
    assert "&amp;gt;" in text and "\n<chq>\n   " in text and text.startswith("<?xml")


BAD_PAIRS = {
    "no chq": (f'<pair pid="9" type="t" value="true">\n<faq>\n   {SECRET}?\n</faq>\n</pair>',
               "line 11", "pair '9': no <chq> element"),
    "no faq": (f'<pair pid="9" type="t" value="true">\n<chq>\n   {SECRET}?\n</chq>\n</pair>',
               "line 11", "pair '9': no <faq> element"),
    "no value": (f'<pair pid="9" type="t">\n<chq>{SECRET}</chq>\n<faq>x</faq>\n</pair>',
                 "line 11", "pair '9': no value attribute"),
    "no pid": (f'<pair type="t" value="true">\n<chq>{SECRET}</chq>\n<faq>x</faq>\n</pair>',
               "line 11", "<pair> without a pid attribute"),
    "unknown value": (f'<pair pid="9" value="maybe">\n<chq>{SECRET}</chq>\n<faq>x</faq>\n</pair>',
                      "line 11", "pair '9': unknown value 'maybe'"),
    "duplicate pid": (f'<pair pid="1" value="true">\n<chq>{SECRET}</chq>\n<faq>x</faq>\n</pair>',
                      "line 11", "duplicate pid '1' (first at line 3)"),
    "both empty": ('<pair pid="9" value="false">\n<chq>\n   \n</chq>\n<faq></faq>\n</pair>',
                   "line 11", "pair '9': both questions are empty"),
    "repeated chq": (f'<pair pid="9" value="true">\n<chq>{SECRET}</chq>\n<chq>y</chq>\n<faq>x</faq>\n</pair>',
                     "line 11", "pair '9': more than one <chq>"),
    "unexpected child": (f'<pair pid="9" value="true">\n<chq>{SECRET}</chq>\n<faq>x</faq>\n<answer>z</answer>\n</pair>',
                         "line 14", "pair '9': unexpected element <answer>"),
    "stray element": (f"<note>{SECRET}</note>", "line 11", "unexpected element <note>"),
}


@pytest.mark.parametrize("kind", list(BAD_PAIRS))
def test_bad_pair_strict_names_file_and_line(tmp_path: Path, kind: str) -> None:
    xml, position, message = BAD_PAIRS[kind]
    with pytest.raises(CorpusFormatError) as err:
        read(_train_file(tmp_path, xml), splits=("train",))
    assert f"RQE_Train_8588_AMIA2016.xml:{position}: {message}" in str(err.value)
    assert SECRET not in str(err.value) and "Zyxwvut" not in str(err.value)


@pytest.mark.parametrize("kind", list(BAD_PAIRS))
def test_bad_pair_lenient_skips_only_that_pair(tmp_path: Path, kind: str) -> None:
    corpus = read(_train_file(tmp_path, BAD_PAIRS[kind][0]), splits=("train",), lenient=True)
    assert corpus.splits == {"train": [_good("1"), _good("100")]}
    assert [(p.file, p.position) for p in corpus.problems] == [("RQE_Train_8588_AMIA2016.xml", BAD_PAIRS[kind][1])]


@pytest.mark.parametrize(("bad", "root_tag", "position", "message"), [
    (f'<pair pid="9" value="true"><chq>{SECRET} & more</chq><faq>x</faq></pair>', "RQE-med-train",
     "line 11, column 53", "malformed XML: not well-formed (invalid token)"),
    ("", "RQE-med-test", "line 2", "root element is <RQE-med-test>, expected <RQE-med-train>"),
])
def test_unusable_xml_skips_the_file(tmp_path: Path, bad: str, root_tag: str, position: str, message: str) -> None:
    root = _train_file(tmp_path, bad, root_tag)
    with pytest.raises(CorpusFormatError) as err:
        read(root, splits=("train",))
    assert f"RQE_Train_8588_AMIA2016.xml:{position}: {message}" in str(err.value)
    assert SECRET not in str(err.value)
    corpus = read(root, splits=("train",), lenient=True)
    assert corpus.splits == {"train": []} and len(corpus.problems) == 1


@pytest.mark.parametrize(("content", "position", "message"), [
    (b"  \n", "", "file is empty"),
    (b'<?xml version="1.0"?>\n<RQE-med-train>\n<pair pid="1"><chq>caf\xe9</chq>', "line 3 (byte 60)",
     "not valid UTF-8"),
])
def test_empty_or_undecodable_file(tmp_path: Path, content: bytes, position: str, message: str) -> None:
    (tmp_path / "RQE_Train_8588_AMIA2016.xml").write_bytes(content)
    with pytest.raises(CorpusFormatError) as err:
        read(tmp_path, splits=("train",))
    assert f"RQE_Train_8588_AMIA2016.xml:{position}: {message}".replace(":: ", ": ") in str(err.value)
    corpus = read(tmp_path, splits=("train",), lenient=True)
    assert corpus.splits == {"train": []} and len(corpus.problems) == 1
