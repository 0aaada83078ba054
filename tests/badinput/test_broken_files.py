"""The checked-in corpus of broken raw files (tests/badinput/broken/, one official layout per case; README.md has
the table). Each case is read twice through the registry: strict mode must raise CorpusFormatError naming the file
(relative to the corpus root) and the exact position, or read the case correctly when it is valid after all (BOM,
CRLF); lenient mode must skip only the broken annotation (or file), keep every good one, and count each problem.
Cases with an official dev split (MedNLI, quaero) read it as split ``dev``; ``Case.dev`` names what lands there.
The note text of every case holds MARKER, which no error and no Problem may contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mtclin.corpora import CorpusFormatError, read_corpus
from mtclin.corpora.types import Corpus, Document, Pair

BROKEN = Path(__file__).parent / "broken"
README = Path(__file__).parent / "README.md"
MARKER = "Qorvel"  # planted in the note text of every case, beside the breakage where possible

N18 = "training_20180910"
T18 = "gold-standard-test-data/test"
QUAERO = "QUAERO_FrenchMed/corpus"
BETH = "concept_assertion_relation_training_data/beth"
R12 = "2012-07-15.original-annotation.release"
SET1 = "training-PHI-Gold-Set1"
RQE = "RQE_Train_8588_AMIA2016.xml"

# What a good file of each family reads as: {document id: [(entity id, span text)]} or {pair id: (a, b, label)}.
N18_SPANS = [("T1", "aspirin"), ("T2", "81 mg"), ("T3", "daily"), ("T4", "chest\npain")]
EMEA_SPANS = [("T2", "hépatite virale"), ("T1", "hépatite virale chronique")]
MEDLINE_SPANS = [("T1", "Hépatite virale")]
CON_SPANS = [("L1", "Chest pain"), ("L2", "Tuesday\nMrs"), ("L3", "aspirin"), ("L4", "fever")]
EVENT_SPANS = [("E0", "Admission"), ("E1", "admitted"), ("E2", "chest pain")]
PHI_SPANS = [("P0", "2067-05-03"), ("P1", f"{MARKER} Quarles"), ("P2", "1234567"), ("P3", "Ann Lee")]
NLI = {
    "a1": (f"{MARKER} denies chest pain.", "The patient has chest pain.", "contradiction"),
    "a2": ("Labs were normal.", "The patient had labs drawn.", "entailment"),
    "a3": ("BP 150/90.", "The patient is hypertensive.", "neutral"),
}
NLI_DEV = {"d1": ("Afebrile.", "No fever.", "entailment")}
RQE_PAIRS = {
    "1": ("How should I treat polymenorrhea?", "How to treat polymenorrhea?", "true"),
    "2": (f"{MARKER} asks: is psoriasis contagious?", "What causes gout?", "false"),
    "3": ("Is tinea contagious?", "Is tinea contagious?", "true"),
}


@dataclass(frozen=True)
class Case:
    corpus: str
    expected: dict  # what lenient mode returns, every split together (see the family constants above)
    problems: tuple[tuple[str, str], ...] = ()  # (file, position) of each problem, in report order; () = valid
    message: str = ""  # part of the first problem's message (the one strict mode raises)
    splits: tuple[str, ...] = ("train",)
    dev: tuple[str, ...] = ()  # the ids of ``expected`` that come back in split dev (the others: in the other splits)


SHIFTED = "the offsets look shifted by +1; entity kept in lenient mode"
CASES: dict[str, Case] = {
    # --- n2c2-2018 (BRAT) ---
    "n2c2-2018--bom-txt-counted": Case("n2c2-2018", {f"{N18}/100": N18_SPANS}),
    "n2c2-2018--bom-txt-not-counted": Case(
        "n2c2-2018",
        # kept, but every one reported: brat.py keeps offset-valid entities whose text mismatches (lenient only)
        {f"{N18}/100": [("T1", " aspiri"), ("T2", " 81 m"), ("T3", " dail"), ("T4", " chest\npai")]},
        tuple((f"{N18}/100.ann", p) for p in ("line 1 (offsets 17-24)", "line 2 (offsets 25-30)",
                                              "line 3 (offsets 31-36)", "line 4 (offsets 41-51)")),
        f"T1 Drug: span text (6 chars) does not match the annotation's text (7 chars); {SHIFTED}"),
    "n2c2-2018--bom-ann": Case("n2c2-2018", {f"{N18}/100": N18_SPANS}),
    "n2c2-2018--crlf": Case("n2c2-2018", {f"{N18}/100": N18_SPANS[:3] + [("T4", "chest\r\npain")]}),
    "n2c2-2018--crlf-offsets-from-lf": Case(
        "n2c2-2018", {f"{N18}/100": N18_SPANS[:3] + [("T4", " chest\r\npa")]},
        ((f"{N18}/100.ann", "line 4 (offsets 41-51)"),),
        "T4 Reason: span text (8 chars) does not match the annotation's text (10 chars); entity kept"),
    "n2c2-2018--truncated-ann": Case(
        "n2c2-2018", {f"{N18}/100": N18_SPANS}, ((f"{N18}/100.ann", "line 6"),),
        "text-bound line has 2 tab-separated field(s), expected 3"),
    "n2c2-2018--duplicate-t-id": Case(
        "n2c2-2018", {f"{N18}/100": N18_SPANS}, ((f"{N18}/100.ann", "line 6"),),
        "T2: id already used earlier in this file; annotation skipped"),
    "n2c2-2018--fragment-past-end": Case(
        "n2c2-2018", {f"{N18}/100": N18_SPANS}, ((f"{N18}/100.ann", "line 6 (offsets 41-46;61-70)"),),
        "T5 Reason: fragment 61-70 ends past the end of the text (63 chars); annotation skipped"),
    "n2c2-2018--orphans-in-test": Case(
        "n2c2-2018", {f"{T18}/100": N18_SPANS}, ((f"{T18}/200.txt", ""), (f"{T18}/300.ann", "")),
        "no annotation file 200.ann beside this note; document skipped", splits=("test",)),
    # --- quaero-2014 (BRAT) ---
    "quaero-2014--crlf-emea": Case("quaero-2014", {
        f"{QUAERO}/train/EMEA/118_2": EMEA_SPANS,
        f"{QUAERO}/train/MEDLINE/2000000": MEDLINE_SPANS + [("T2", "France")]}),
    "quaero-2014--empty-ann": Case("quaero-2014", {
        f"{QUAERO}/train/EMEA/118_2": EMEA_SPANS, f"{QUAERO}/train/EMEA/118_3": []}),
    "quaero-2014--latin1-ann": Case(
        "quaero-2014", {f"{QUAERO}/train/MEDLINE/2000000": MEDLINE_SPANS},
        ((f"{QUAERO}/train/EMEA/118_2.ann", "line 1 (byte 15)"),), "not valid UTF-8 (invalid continuation byte)"),
    "quaero-2014--dev-txt-without-ann": Case(  # the orphan is dev's only file: dev comes back empty
        "quaero-2014", {f"{QUAERO}/train/MEDLINE/2000000": MEDLINE_SPANS},
        ((f"{QUAERO}/dev/EMEA/120_1.txt", ""),), "no annotation file 120_1.ann beside this note",
        splits=("train", "dev")),
    # --- i2b2-2010 ---
    "i2b2-2010--bom-txt": Case("i2b2-2010", {f"{BETH}/txt/record-1": CON_SPANS}),
    "i2b2-2010--bom-con": Case("i2b2-2010", {f"{BETH}/txt/record-1": CON_SPANS}),
    "i2b2-2010--crlf": Case("i2b2-2010", {f"{BETH}/txt/record-1": [
        ("L1", "Chest pain"), ("L2", "Tuesday\r\nMrs"), ("L3", "aspirin"), ("L4", "fever")]}),
    "i2b2-2010--truncated-con": Case(
        "i2b2-2010", {f"{BETH}/txt/record-1": CON_SPANS}, ((f"{BETH}/concept/record-1.con", "line 5"),),
        'unparsable concept line (expected c="..." L:T L:T||t="...")'),
    "i2b2-2010--latin1-con": Case(
        "i2b2-2010", {f"{BETH}/txt/record-2": CON_SPANS}, ((f"{BETH}/concept/record-1.con", "line 4 (byte 113)"),),
        "not valid UTF-8 (invalid continuation byte)"),
    "i2b2-2010--test-gold-missing": Case(
        "i2b2-2010", {}, (("test_data/0001.txt", ""), ("test_data/0002.txt", "")),
        "text file without its .con concept file", splits=("test",)),
    # --- i2b2-2012 ---
    "i2b2-2012--truncated-xml": Case(
        "i2b2-2012", {f"{R12}/2": EVENT_SPANS}, ((f"{R12}/1.xml", "line 11 (column 1)"),),
        "malformed XML: unclosed token"),
    "i2b2-2012--lt-outside-cdata": Case(
        "i2b2-2012", {f"{R12}/2": EVENT_SPANS}, ((f"{R12}/1.xml", "line 5 (column 47)"),),
        "malformed XML: not well-formed (invalid token)"),
    "i2b2-2012--duplicate-event-id": Case(
        "i2b2-2012", {f"{R12}/1": EVENT_SPANS}, ((f"{R12}/1.xml", "line 11"),),
        "<EVENT> E1: id already used by the tag at line 9; annotation skipped"),
    "i2b2-2012--bom": Case("i2b2-2012", {f"{R12}/1": EVENT_SPANS}),
    "i2b2-2012--crlf": Case("i2b2-2012", {f"{R12}/1": EVENT_SPANS}),
    "i2b2-2012--crlf-offsets-from-lf": Case(
        "i2b2-2012", {f"{R12}/1": EVENT_SPANS[:1]},
        ((f"{R12}/1.xml", "line 9 (offset 43)"), (f"{R12}/1.xml", "line 10 (offset 57)")),
        "EVENT E1: text= (8 characters) does not match the span 43-51 (8 characters) (file read as 1-based)"),
    # --- i2b2-2014 ---
    "i2b2-2014--duplicate-tag-id": Case(
        "i2b2-2014", {f"{SET1}/100-01": PHI_SPANS[:3]}, ((f"{SET1}/100-01.xml", "line 14"),),
        "<NAME> P1: id already used by the tag at line 12; annotation skipped"),
    "i2b2-2014--truncated-xml": Case(
        "i2b2-2014", {f"{SET1}/100-02": PHI_SPANS}, ((f"{SET1}/100-01.xml", "line 12 (column 1)"),),
        "malformed XML: unclosed token"),
    "i2b2-2014--lt-outside-cdata": Case(
        "i2b2-2014", {f"{SET1}/100-02": PHI_SPANS}, ((f"{SET1}/100-01.xml", "line 8 (column 20)"),),
        "malformed XML: not well-formed (invalid token)"),
    "i2b2-2014--bom-crlf": Case("i2b2-2014", {f"{SET1}/100-01": PHI_SPANS}),
    "i2b2-2014--private-use-char": Case("i2b2-2014", {f"{SET1}/100-01": PHI_SPANS + [("P4", "R&D badge \ue000 7")]}),
    # --- MedNLI ---
    "mednli--bom-crlf": Case("mednli", NLI | NLI_DEV, splits=("train", "dev"), dev=tuple(NLI_DEV)),
    "mednli--truncated": Case(
        "mednli", NLI | NLI_DEV, (("mli_train_v1.jsonl", "line 4 (column 15)"),),
        "invalid JSON: Unterminated string starting at", splits=("train", "dev"), dev=tuple(NLI_DEV)),
    "mednli--duplicate-pairid": Case(
        "mednli", NLI | NLI_DEV, (("mli_train_v1.jsonl", "line 4"),),
        "duplicate pairID 'a2' (first at mli_train_v1.jsonl line 2)", splits=("train", "dev"), dev=tuple(NLI_DEV)),
    "mednli--bom-only-dev": Case(  # split dev reported and empty; train whole
        "mednli", NLI, (("mli_dev_v1.jsonl", ""),), "file is empty", splits=("train", "dev")),
    # --- MedRQE ---
    "medrqe--bare-ampersand": Case(
        "medrqe", {}, ((RQE, "line 13, column 28"),), "malformed XML: not well-formed (invalid token)"),
    "medrqe--truncated": Case("medrqe", {}, ((RQE, "line 21, column 4"),), "malformed XML: no element found"),
    "medrqe--bom-crlf": Case("medrqe", RQE_PAIRS),
    # --- n2c2-2019 ---
    "n2c2-2019--bom-crlf-train": Case("n2c2-2019", {
        "train-1": (f"{MARKER} denies pain.", "Patient reports no pain.", 4.5),
        "train-2": ("Take one tablet daily.", "Walk daily.", 1.0)}),
    "n2c2-2019--bom-gold": Case("n2c2-2019", {
        "test-1": (f"{MARKER} denies pain.", "Patient reports no pain.", 4.5),
        "test-2": ("Take one tablet daily.", "Walk daily.", 1.0)}, splits=("test",)),
    "n2c2-2019--truncated-train": Case(
        "n2c2-2019", {"train-1": (f"{MARKER} denies pain.", "Patient reports no pain.", 4.5),
                      "train-2": ("Take one tablet daily.", "Walk daily.", 1.0)},
        (("clinicalSTS2019.train.txt", "line 3"),), "2 tab-separated fields, expected 3"),
}


def _content(corpus: Corpus) -> dict:
    """Every example of every split, in the shape of ``Case.expected``."""
    out: dict = {}
    for examples in corpus.splits.values():
        for example in examples:
            if isinstance(example, Document):
                out[example.id] = [(e.id, " ".join(example.text[s:t] for s, t in e.fragments))
                                   for e in example.entities]
            else:
                assert isinstance(example, Pair)
                out[example.id] = (example.a, example.b, example.label if example.score is None else example.score)
    return out


def _dev_ids(corpus: Corpus) -> list[str]:
    """The ids of split dev, sorted (none where dev was not read)."""
    return sorted(example.id for example in corpus.splits.get("dev", []))


def test_every_case_directory_is_listed_here_and_in_the_readme() -> None:
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(CASES)
    readme = README.read_text(encoding="utf-8")
    assert [name for name in CASES if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("name", list(CASES))
def test_strict_mode_names_the_file_and_the_exact_position(name: str) -> None:
    case, root = CASES[name], BROKEN / name
    assert any(MARKER.encode() in p.read_bytes() for p in root.rglob("*") if p.is_file()), "marker not planted"
    if not case.problems:  # valid after all: a correct read
        corpus = read_corpus(case.corpus, root, splits=case.splits)
        assert corpus.problems == [] and _content(corpus) == case.expected
        assert list(corpus.splits) == list(case.splits) and _dev_ids(corpus) == sorted(case.dev)
        return
    with pytest.raises(CorpusFormatError) as err:
        read_corpus(case.corpus, root, splits=case.splits)
    problem = err.value.problem
    assert (problem.file, problem.position) == case.problems[0]
    assert case.message in problem.message
    where = f"{problem.file}:{problem.position}" if problem.position else problem.file
    assert str(err.value).startswith(f"{where}: ")
    assert MARKER not in str(err.value)


@pytest.mark.parametrize("name", list(CASES))
def test_lenient_mode_skips_only_what_is_broken_and_counts_it(name: str) -> None:
    case = CASES[name]
    corpus = read_corpus(case.corpus, BROKEN / name, splits=case.splits, lenient=True)
    assert [(p.file, p.position) for p in corpus.problems] == list(case.problems)
    assert _content(corpus) == case.expected
    assert list(corpus.splits) == list(case.splits) and _dev_ids(corpus) == sorted(case.dev)
    assert [str(p) for p in corpus.problems if MARKER in str(p)] == []


@pytest.mark.parametrize(("name", "doc_id", "prefix"), [
    ("n2c2-2018--bom-txt-counted", f"{N18}/100", "\ufeffMrs "),
    ("i2b2-2010--bom-txt", f"{BETH}/txt/record-1", "\ufeffChest pain since Tuesday\nMrs "),
    ("n2c2-2018--crlf", f"{N18}/100", f"Mrs {MARKER} takes aspirin 81 mg daily\r\nfor chest\r\n"),
    ("i2b2-2010--crlf", f"{BETH}/txt/record-1", "Chest pain since Tuesday\r\nMrs "),
    ("quaero-2014--crlf-emea", f"{QUAERO}/train/EMEA/118_2", "\r\n\r\nRésumé des caractéristiques du produit\r\n"),
    ("i2b2-2012--crlf", f"{R12}/1", "Admission Date :\r\n2012-03-14\r\n"),
    ("i2b2-2014--bom-crlf", f"{SET1}/100-01", "\r\n\r\n\r\nRecord date: 2067-05-03\r\n"),
])
def test_bom_and_carriage_returns_stay_in_the_note_text(name: str, doc_id: str, prefix: str) -> None:
    """Offsets count every character as stored: the text is never normalised, so the spans above are right
    because they index the text with its BOM and \\r characters (an XML BOM precedes <?xml, outside the text)."""
    case = CASES[name]
    (document,) = [d for d in read_corpus(case.corpus, BROKEN / name, splits=case.splits).splits["train"]
                   if d.id == doc_id]
    assert document.text.startswith(prefix)
