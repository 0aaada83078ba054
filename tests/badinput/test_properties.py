"""Property-based tests of the BRAT and i2b2 parsers on arbitrary, mostly near-valid input.

Each strategy builds a valid release file from a random note (random spans, labels from the corpus plus an unknown
one, BOM and CRLF variants), then breaks it with random edits (deletions, insertions of syntax characters,
truncation, duplicated lines, stray bytes such as 0xFF or a BOM), so the parsers' deep paths run, not only the
first syntax check. For every input:

- strict mode returns a corpus or raises CorpusFormatError, nothing else; lenient mode never raises;
- strict mode raises exactly when lenient mode reports a problem, and raises the first one lenient mode reports
  (otherwise both read the same corpus);
- every entity has fragments with 0 <= start < end <= len(text), sorted and non-overlapping, and no two
  entities of a document share an id (a duplicated line must not yield the annotation twice);
- no message quotes the note text: MARKER is planted in every note and kept out of every annotation (the
  ``.ann``/``.con`` files, the XML tags);
- an input left unbroken reads without problems, every span reproducing its annotation's text.

``pytest --hypothesis-show-statistics`` shows how the inputs spread over problems found and entities read.

Files go to a fresh temporary directory per example (not the function-scoped tmp_path fixture, which hypothesis
would share across examples).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mtclin.corpora import CorpusFormatError, read_corpus
from mtclin.corpora.brat import normalise_space, span_text
from mtclin.corpora.i2b2_2014 import CATEGORY_OF
from mtclin.corpora.types import Corpus, Document

MARKER = "Qorvel"
MASK = "#" * len(MARKER)
BOM = "\ufeff"
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that mean something to one of the formats, for insertions.
SYNTAX = "\t \n\r;:|\"'<>&/=]![-0123456789T" + BOM


def _note_text() -> st.SearchStrategy[str]:
    """Random note text around MARKER: a small alphabet (spaces, line breaks, accents, markup) or any Unicode."""
    small = st.text(alphabet="ab cé\n\r\t&<\"]\ue000", max_size=50)  # U+E000: the i2b2 XML '&' placeholder
    wide = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
    part = st.one_of(small, wide).map(lambda s: s.replace("Q", ""))  # MARKER occurs once: the one planted
    return st.tuples(part, part).map(lambda ab: f"{ab[0]} {MARKER} {ab[1]}")


@st.composite
def _edits(draw: st.DrawFn, content: str, alphabet: str = SYNTAX) -> tuple[str, bool]:
    """``content`` after 0-4 random edits, and whether any edit was made. Changing a digit keeps the syntax
    valid but moves an offset or a token position, so it reaches the span checks behind the syntax checks."""
    edits = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3, 4]))
    for _ in range(edits):
        position = draw(st.integers(0, len(content)))
        kind = draw(st.sampled_from(["digit", "digit", "delete", "insert", "truncate", "duplicate-line"]))
        digits = [i for i, c in enumerate(content) if c in "0123456789"]
        if kind == "digit" and digits:
            position = draw(st.sampled_from(digits))
            content = content[:position] + draw(st.sampled_from("0123456789")) + content[position + 1:]
        elif kind == "delete":
            content = content[:position] + content[position + 1:]
        elif kind == "insert":
            content = content[:position] + draw(st.sampled_from(alphabet)) + content[position:]
        elif kind == "truncate":
            content = content[:position]
        else:
            lines = content.split("\n")
            index = draw(st.integers(0, len(lines) - 1))
            content = "\n".join(lines[:index + 1] + lines[index:])
    return content, edits > 0


@st.composite
def _encoded(draw: st.DrawFn, content: str) -> tuple[bytes, bool]:
    """``content`` as UTF-8, sometimes with a stray byte (0xFF, a cut multi-byte character, a BOM) or replaced by
    random bytes; and whether it was changed."""
    data = content.encode("utf-8")
    kind = draw(st.sampled_from(["none"] * 6 + ["byte", "random"]))
    if kind == "byte":
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\x00"])) + data[position:]
    elif kind == "random":
        data = draw(st.binary(max_size=80))
    return data, kind != "none"


def _touches_marker(text: str, fragments: list[tuple[int, int]]) -> bool:
    start = text.index(MARKER)
    return any(a < start + len(MARKER) and start < b for a, b in fragments)


def _check_entities(corpus: Corpus) -> None:
    for examples in corpus.splits.values():
        for document in examples:
            assert isinstance(document, Document)
            ids = [entity.id for entity in document.entities]
            assert len(ids) == len(set(ids)), f"an id used twice: {sorted(ids)}"
            for entity in document.entities:
                assert entity.fragments, entity
                assert all(0 <= start < end <= len(document.text) for start, end in entity.fragments), entity
                pairs = zip(entity.fragments, entity.fragments[1:])
                assert all(left[1] <= right[0] for left, right in pairs), f"unsorted or overlapping: {entity}"


def _read_both(read: Callable[[bool], Corpus]) -> Corpus:
    """Read strict and lenient; check the invariants every reader owes whatever the input; return lenient."""
    lenient = read(True)
    _check_entities(lenient)
    event(f"problems: {min(len(lenient.problems), 2)}, entities: "
          f"{min(sum(len(d.entities) for docs in lenient.splits.values() for d in docs), 2)}")
    assert [str(p) for p in lenient.problems if MARKER in str(p)] == []
    try:
        strict = read(False)
    except CorpusFormatError as err:
        assert MARKER not in str(err)
        assert lenient.problems and str(err.problem) == str(lenient.problems[0])
    else:
        assert lenient.problems == [] and strict.splits == lenient.splits
    return lenient


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# --- BRAT (n2c2-2018 reader; brat.py does the parsing) -------------------------------------------------------

BRAT_LABELS = ("Drug", "Reason", "Strength", "Unknown")


def _relation_line(lines: list[str]) -> list[str]:
    """A valid n2c2-2018 relation between the first attribute and the first Drug of the T lines, if both exist
    (n2c2-2018 keeps relations, checking their type and argument types)."""
    labels = {line.split("\t")[0]: line.split("\t")[1].split(" ")[0] for line in lines}
    drug = next((ident for ident, label in labels.items() if label == "Drug"), None)
    attribute = next((ident for ident, label in labels.items() if label in ("Reason", "Strength")), None)
    if drug is None or attribute is None:
        return []
    return [f"R1\t{labels[attribute]}-Drug Arg1:{attribute} Arg2:{drug}"]


@st.composite
def _brat(draw: st.DrawFn) -> tuple[str, dict[str, bytes], bool, list[tuple[str, str]]]:
    text = draw(_note_text())
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = BOM + text  # brat counts it as a character: the offsets below do too
    masked = text.replace(MARKER, MASK)
    lines, wanted = [], []
    for number in range(1, draw(st.integers(0, 5)) + 1):
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6, unique=True)))
        fragments = [(a, b) for a, b in zip(cuts[::2], cuts[1::2])]
        label = draw(st.sampled_from(BRAT_LABELS))
        offsets = ";".join(f"{a} {b}" for a, b in fragments)
        surface = span_text(masked, tuple(fragments))
        lines.append(f"T{number}\t{label} {offsets}\t{surface}")
        if label != "Unknown" and not _touches_marker(text, fragments):
            wanted.append((f"T{number}", normalise_space(surface)))
        else:
            wanted.append(("", ""))  # reported when unbroken: unknown label or masked text
    relation = _relation_line(lines)
    reused = bool(lines) and draw(st.integers(0, 3)) == 0  # an id used twice, the second time maybe elsewhere
    if reused:
        lines.append(draw(st.sampled_from(lines)).replace("\t", "\tDrug 0 1\t" if draw(st.booleans()) else "\t", 1))
    lines += [*relation, "#1\tAnnotatorNotes T1\tC0004057"]
    ann, edited = draw(_edits("\n".join(lines) + "\n"))
    if draw(st.booleans()):
        ann = ann.replace("\n", "\r\n")
    txt_bytes, txt_changed = draw(_encoded(text))
    ann_bytes, ann_changed = draw(_encoded(ann))
    files = {"training_20180910/100.txt": txt_bytes, "training_20180910/100.ann": ann_bytes}
    return text, files, edited or reused or txt_changed or ann_changed, wanted


@PROPERTY
@given(_brat())
def test_brat_reader_on_broken_ann_files(case: tuple[str, dict[str, bytes], bool, list[tuple[str, str]]]) -> None:
    text, files, broken, wanted = case
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), files)
        corpus = _read_both(lambda lenient: read_corpus("n2c2-2018", Path(tmp), splits=("train",), lenient=lenient))
    if not broken and all(ident for ident, _ in wanted):
        (document,) = corpus.splits["train"]
        assert corpus.problems == [] and document.text == text
        got = {e.id: normalise_space(span_text(text, e.fragments)) for e in document.entities}
        assert got == dict(wanted)


# --- i2b2-2010 (.con token positions against a pre-tokenised .txt) ------------------------------------------

_TOKEN = st.text(alphabet="abcé-.,/\"'|:", min_size=1, max_size=6)


@st.composite
def _i2b2_2010(draw: st.DrawFn) -> tuple[dict[str, bytes], bool, dict[str, str]]:
    lines = draw(st.lists(st.lists(_TOKEN, min_size=1, max_size=5), min_size=1, max_size=4))
    lines[draw(st.integers(0, len(lines) - 1))].append(MARKER)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = (BOM if draw(st.booleans()) else "") + newline.join(" ".join(tokens) for tokens in lines) + newline
    con_lines, wanted = [], {}
    for number in range(1, draw(st.integers(1, 5)) + 1):  # an empty .con is reported (unlike an empty .ann)
        l1 = draw(st.integers(1, len(lines)))
        l2 = draw(st.integers(l1, min(l1 + 1, len(lines))))
        t1 = draw(st.integers(0, len(lines[l1 - 1]) - 1))
        t2 = draw(st.integers(t1 if l2 == l1 else 0, len(lines[l2 - 1]) - 1))
        words = lines[l1 - 1][t1:] + lines[l2 - 1][:t2 + 1] if l2 > l1 else lines[l1 - 1][t1:t2 + 1]
        quoted = " ".join(words).lower().replace(MARKER.lower(), MASK)
        label = draw(st.sampled_from(("problem", "test", "treatment", "disease")))
        con_lines.append(f'c="{quoted}" {l1}:{t1} {l2}:{t2}||t="{label}"')
        wanted[f"L{number}"] = "" if label == "disease" or MARKER in words else quoted
    con, edited = draw(_edits("\n".join(con_lines) + "\n"))
    txt_bytes, txt_changed = draw(_encoded(text))
    con_bytes, con_changed = draw(_encoded(con))
    beth = "concept_assertion_relation_training_data/beth"
    files = {f"{beth}/txt/r.txt": txt_bytes, f"{beth}/concept/r.con": con_bytes}
    return files, edited or txt_changed or con_changed, wanted


@PROPERTY
@given(_i2b2_2010())
def test_i2b2_2010_reader_on_broken_concept_files(case: tuple[dict[str, bytes], bool, dict[str, str]]) -> None:
    files, broken, wanted = case
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), files)
        corpus = _read_both(lambda lenient: read_corpus("i2b2-2010", Path(tmp), splits=("train",), lenient=lenient))
    if not broken and all(wanted.values()):
        (document,) = corpus.splits["train"]
        assert corpus.problems == []
        got = {e.id: " ".join(document.text[e.start:e.end].split()).lower() for e in document.entities}
        assert got == wanted


# --- i2b2-2012 / i2b2-2014 XML ------------------------------------------------------------------------------

def _xml_char(c: str) -> bool:
    """Whether XML 1.0 allows ``c`` at all (even in CDATA): a file with a control character is malformed."""
    return c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"


def _attr(value: str, bare_amp: bool) -> str:
    value = value.replace("&", "&" if bare_amp else "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return value.replace("\n", " ").replace("\r", " ")


@st.composite
def _i2b2_xml(draw: st.DrawFn, corpus: str) -> tuple[str, dict[str, bytes], bool, dict[str, str]]:
    text = "".join(c if _xml_char(c) else "?" for c in draw(_note_text())).replace("]]>", "]] >")
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    masked = text.replace(MARKER, MASK)
    bare_amp = draw(st.booleans())  # as in several real 2012 files
    tags, wanted = [], {}
    for number in range(draw(st.integers(0, 5))):
        start, end = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2, unique=True)))
        surface = _attr(masked[start:end], bare_amp)
        ok = not _touches_marker(text, [(start, end)]) and masked[start:end].split() != []
        if corpus == "i2b2-2012":
            label = draw(st.sampled_from(("OCCURRENCE", "PROBLEM", "TEST", "PERSON")))
            ident = f"E{number}"
            # 1-based, as the release; every span matches, so the reader can't prefer 0-based (ties go 1-based)
            tags.append(f'<EVENT id="{ident}" start="{start + 1}" end="{end + 1}" text="{surface}" '
                        f'modality="FACTUAL" polarity="POS" type="{label}" />')
        else:
            label = draw(st.sampled_from(("PATIENT", "DATE", "MEDICALRECORD", "MRN")))
            ident = f"P{number}"
            category = CATEGORY_OF.get(label, "ID")
            tags.append(f'<{category} id="{ident}" start="{start}" end="{end}" text="{surface}" TYPE="{label}" '
                        'comment="" />')
        wanted[ident] = masked[start:end] if ok and label not in ("PERSON", "MRN") else ""
    reused = bool(tags) and draw(st.integers(0, 3)) == 0  # an id used twice
    if reused:
        tags.append(draw(st.sampled_from(tags)))
    root = "ClinicalNarrativeTemporalAnnotation" if corpus == "i2b2-2012" else "deIdi2b2"
    xml = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>\n<TEXT><![CDATA[{text}]]></TEXT>\n<TAGS>\n'
           + "".join(tag + "\n" for tag in tags) + f"</TAGS>\n</{root}>\n")
    if draw(st.booleans()):
        xml = BOM + xml
    xml, edited = draw(_edits(xml))
    data, changed = draw(_encoded(xml))
    folder = "2012-07-15.original-annotation.release" if corpus == "i2b2-2012" else "training-PHI-Gold-Set1"
    return text, {f"{folder}/1.xml": data}, edited or reused or changed, wanted


def _check_xml(corpus_name: str, case: tuple[str, dict[str, bytes], bool, dict[str, str]]) -> None:
    text, files, broken, wanted = case
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), files)
        corpus = _read_both(lambda lenient: read_corpus(corpus_name, Path(tmp), splits=("train",), lenient=lenient))
    if not broken and all(wanted.values()):
        (document,) = corpus.splits["train"]
        assert corpus.problems == [] and document.text == text
        got = {e.id: document.text[e.start:e.end].replace(MARKER, MASK) for e in document.entities}
        assert got.keys() == wanted.keys()
        assert all(got[k].split() == wanted[k].split() for k in wanted)


@PROPERTY
@given(_i2b2_xml("i2b2-2012"))
def test_i2b2_2012_reader_on_broken_xml(case: tuple[str, dict[str, bytes], bool, dict[str, str]]) -> None:
    _check_xml("i2b2-2012", case)


@PROPERTY
@given(_i2b2_xml("i2b2-2014"))
def test_i2b2_2014_reader_on_broken_xml(case: tuple[str, dict[str, bytes], bool, dict[str, str]]) -> None:
    _check_xml("i2b2-2014", case)
