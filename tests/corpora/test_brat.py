"""Unit tests of the shared BRAT standoff parser (mtclin/corpora/brat.py), independent of any corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtclin.corpora.brat import (
    TextBound,
    check_entities,
    entity_sort_key,
    format_text_bound,
    is_release_file,
    pair_files,
    parse_ann,
    read_ann_text,
    read_document,
    read_documents,
    span_text,
)
from mtclin.corpora.problems import CorpusFormatError, ProblemLog
from mtclin.corpora.types import Entity

LABELS = ("Drug", "Reason", "ADE")
SECRET = "Zebulon"  # stands for PHI: must never appear in a problem message
TEXT = f"Pt {SECRET} on aspirin for chest\npain and left\nleg edema.\n"
#       0123456789...: aspirin = 14-21, "chest\npain" = 26-36, "left" = 41-45, "leg edema" = 46-55


def _parse(content: str, lenient: bool = False, path: Path = Path("/r/a.ann")) -> tuple[list[TextBound], ProblemLog]:
    log = ProblemLog(Path("/r"), lenient)
    return parse_ann(content, path, log), log


def _check(lines: str, lenient: bool = False, text: str = TEXT):
    log = ProblemLog(Path("/r"), lenient)
    bounds = parse_ann(lines, Path("/r/a.ann"), log)
    return check_entities(bounds, text, LABELS, Path("/r/a.ann"), log), log


def test_the_reference_offsets_are_right():
    assert TEXT[14:21] == "aspirin" and TEXT[26:36] == "chest\npain"
    assert TEXT[41:45] == "left" and TEXT[46:55] == "leg edema"


def test_parse_t_lines_and_ignore_every_other_kind():
    content = (
        "T1\tDrug 14 21\taspirin\n"
        "T2\tReason 41 45;46 55\tleft leg edema\r\n"  # CRLF-written line
        "\n"
        "R1\tReason-Drug Arg1:T2 Arg2:T1\t\n"
        "E1\tTreatment:T1 Theme:T2\n"
        "A1\tNegated T2\n"
        "M1\tSeverity T2 High\n"
        "N1\tReference T1 RxNorm:1191\taspirin\n"
        "#1\tAnnotatorNotes T1\tC0004057\n"
        "*\tEquiv T1 T2\n"
    )
    bounds, log = _parse(content)
    assert bounds == [
        TextBound("T1", "Drug", ((14, 21),), "aspirin", 1),
        TextBound("T2", "Reason", ((41, 45), (46, 55)), "left leg edema", 2),
    ]
    assert log.problems == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("T1\tDrug 14\taspirin", "offsets field"),  # one number
        ("T1\tDrug 14 x21\taspirin", "offsets field"),
        ("T1\tDrug 14 21;\taspirin", "offsets field"),  # dangling ';'
        ("T1\tDrug 14 21;30\taspirin", "offsets field"),
        ("T1\tDrug -3 21\taspirin", "offsets field"),
        ("T1\tDrug 14 21", "2 tab-separated field(s), expected 3"),
        ("T1 Drug 14 21 aspirin", "1 tab-separated field(s), expected 3"),
        ("Tx\tDrug 14 21\taspirin", "is not T<number>"),
        ("R1\tReason-Drug Arg1:T2", "malformed 'R' annotation line"),
        ("X1\tDrug 14 21\taspirin", "unparsable line: does not start with a BRAT id"),
        ("R1 Reason-Drug Arg1:T2 Arg2:T1", "unparsable line: no tab"),
    ],
)
def test_malformed_lines_are_reported_with_their_line_number(line: str, expected: str):
    content = f"T9\tDrug 14 21\taspirin\n{line}\n"
    with pytest.raises(CorpusFormatError) as err:
        _parse(content)
    assert "a.ann:line 2: " in str(err.value) and expected in str(err.value)
    assert "aspirin" not in str(err.value)
    bounds, log = _parse(content, lenient=True)
    assert [b.id for b in bounds] == ["T9"] and len(log.problems) == 1  # only the broken line is skipped


@pytest.mark.parametrize(
    "line",
    [
        "N1\tReference T9 MeSH:D011125",
        "N2\tReference T9 MeSH:D011125\taspirin",
        "#1\tAnnotatorNotes",  # a note without its text
        "#\tAnnotatorNotes T9\tfree text",
        "E1\tTreatment T9",  # an event of an odd shape
        "E2\tTreatment:T9",
        "A1\tNegated",
        "A2\tConfidence E1 L1 extra values",
        "M1\tNegated T9",
        "*\tEquiv T9",
        "N3 Reference T9 UMLS:C0004057",  # no tab after the id: still nothing a task reads
    ],
)
def test_event_attribute_normalisation_and_note_lines_are_never_an_error(line: str):
    bounds, log = _parse(f"T9\tDrug 14 21\taspirin\n{line}\n")
    assert [b.id for b in bounds] == ["T9"] and log.problems == []


@pytest.mark.parametrize(
    ("listed", "surface"),
    [
        ("41 45;46 55", "left leg edema"),  # joined by one space (what brat writes)
        ("41 45;46 55", " left  leg\tedema"),  # whitespace normalised
        ("41 44;44 45", "left"),  # touching fragments: plain concatenation
        ("41 43;44 45", "left"),  # covering text from the first start to the last end
        ("26 31;32 36", "chest pain"),  # covering text across the newline: shown as a space
        ("46 49;41 45", "leg left"),  # listed last-first: joined in the listed order
        ("46 49;41 45", "legleft"),  # ... or concatenated in that order
        ("41 45;50 55", "left leg edema"),  # covering text, fragments apart
    ],
)
def test_discontinuous_text_forms_seen_in_real_releases_are_accepted(listed: str, surface: str):
    entities, log = _check(f"T1\tReason {listed}\t{surface}\n")
    assert log.problems == [] and len(entities) == 1


@pytest.mark.parametrize(
    ("listed", "surface", "position", "lengths"),
    [
        ("41 45;50 55", "left edema leg", "line 1 (offsets 41-45;50-55)", "(10 chars)"),
        ("41 43;44 45", "lft", "line 1 (offsets 41-43;44-45)", "(4 chars)"),
    ],
)
def test_discontinuous_text_matching_no_form_is_reported(listed: str, surface: str, position: str, lengths: str):
    with pytest.raises(CorpusFormatError) as err:
        _check(f"T1\tReason {listed}\t{surface}\n")
    message = str(err.value)
    assert message.startswith(f"a.ann:{position}: T1 Reason: span text {lengths} (fragments joined by a space; "
                              "concatenated or as the covering text do not match either) does not match")
    assert "left" not in message and "edema" not in message and SECRET not in message
    entities, log = _check(f"T1\tReason {listed}\t{surface}\n", lenient=True)
    assert len(entities) == 1 and [p.position for p in log.problems] == [position]


def test_duplicate_id_keeps_the_first():
    bounds, log = _parse("T1\tDrug 14 21\taspirin\nT1\tReason 26 36\tchest pain\n", lenient=True)
    assert [(b.id, b.type) for b in bounds] == [("T1", "Drug")]
    assert [str(p) for p in log.problems] == ["a.ann:line 2: T1: id already used earlier in this file; "
                                              "annotation skipped"]


def test_check_entities_sorts_and_normalises_whitespace():
    # the .ann writes the newline inside "chest\npain" as a space; T3 is split at the line break by BRAT
    entities, log = _check("T3\tReason 41 45;46 55\tleft leg edema\nT2\tReason 26 36\tchest pain\n"
                           "T10\tDrug 14 21\taspirin \nT1\tDrug 14 21\taspirin\n")
    assert log.problems == []
    assert entities == (
        Entity("T1", "Drug", ((14, 21),)),
        Entity("T10", "Drug", ((14, 21),)),
        Entity("T2", "Reason", ((26, 36),)),
        Entity("T3", "Reason", ((41, 45), (46, 55))),
    )
    assert [span_text(TEXT, e.fragments) for e in entities] == ["aspirin", "aspirin", "chest pain", "left leg edema"]


def test_fragments_listed_last_first_are_valid_and_returned_sorted():
    # real quaero: "T5\tPROC 109 117;84 95\tgénérale réanimation" (TEXT follows the listed order)
    entities, log = _check("T1\tReason 46 55;41 45\tleg edema left\n")
    assert log.problems == [] and entities == (Entity("T1", "Reason", ((41, 45), (46, 55))),)


@pytest.mark.parametrize(
    ("line", "position", "expected"),
    [
        ("T4\tSymptom 14 21\taspirin", "line 1 (offsets 14-21)", "T4: unknown label 'Symptom'"),
        ("T4\tDrug 50 70\tedema.", "line 1 (offsets 50-70)", "ends past the end of the text (57 chars)"),
        ("T4\tDrug 21 14\taspirin", "line 1 (offsets 21-14)", "fragment 21-14 is reversed or empty"),
        ("T4\tDrug 14 14\t", "line 1 (offsets 14-14)", "fragment 14-14 is reversed or empty"),
        ("T4\tReason 41 50;46 55\tleft leg leg edema", "line 1 (offsets 41-50;46-55)", "fragments overlap"),
    ],
)
def test_unusable_entities_are_dropped(line: str, position: str, expected: str):
    content = f"{line}\nT2\tDrug 14 21\taspirin\n"
    with pytest.raises(CorpusFormatError) as err:
        _check(content)
    message = str(err.value)
    assert message.startswith(f"a.ann:{position}: ") and expected in message and "annotation skipped" in message
    assert SECRET not in message and "aspirin" not in message and "edema" not in message
    entities, log = _check(content, lenient=True)
    assert [e.id for e in entities] == ["T2"] and len(log.problems) == 1


def test_span_text_mismatch_is_an_error_in_strict_mode_and_kept_in_lenient_mode():
    content = "T1\tDrug 15 22\taspirin\nT2\tReason 26 36\tchest pain\n"  # T1 one character off
    with pytest.raises(CorpusFormatError) as err:
        _check(content)
    message = str(err.value)
    assert message.startswith("a.ann:line 1 (offsets 15-22): T1 Drug: span text (6 chars) does not match")
    assert "shifted by -1" in message and "aspirin" not in message and "spirin" not in message
    entities, log = _check(content, lenient=True)
    assert [(e.id, e.fragments) for e in entities] == [("T1", ((15, 22),)), ("T2", ((26, 36),))]
    assert len(log.problems) == 1 and "entity kept in lenient mode" in log.problems[0].message


def test_unknown_label_that_looks_like_text_is_not_quoted():
    content = f"T1\t{SECRET}'s 14 21\taspirin\n"
    with pytest.raises(CorpusFormatError) as err:
        _check(content)
    assert SECRET not in str(err.value) and "unknown label of 9 chars" in str(err.value)


def test_format_text_bound_round_trips_through_the_parser():
    entities = (Entity("T1", "Reason", ((26, 36),)), Entity("T2", "Reason", ((41, 45), (46, 55))))
    lines = [format_text_bound(e, TEXT) for e in entities]
    assert lines == ["T1\tReason 26 36\tchest pain", "T2\tReason 41 45;46 55\tleft leg edema"]
    assert _check("\n".join(lines))[0] == entities


def test_entity_sort_key():
    a, b, c = Entity("T2", "Drug", ((0, 4),)), Entity("T1", "Drug", ((0, 9),)), Entity("T3", "ADE", ((0, 9),))
    assert sorted([a, b, c], key=entity_sort_key) == [a, c, b]


def test_pair_files_reports_orphans_both_ways(tmp_path: Path):
    for name in ("a.txt", "a.ann", "b.txt", "c.ann"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    log = ProblemLog(tmp_path, lenient=True)
    pairs = pair_files(sorted(tmp_path.iterdir()), log)
    assert pairs == [(tmp_path / "a.txt", tmp_path / "a.ann")]
    assert [str(p) for p in log.problems] == [
        "b.txt: no annotation file b.ann beside this note; document skipped",
        "c.ann: no note c.txt beside these annotations; file skipped",
    ]
    with pytest.raises(CorpusFormatError, match=r"^b\.txt: no annotation file b\.ann"):
        pair_files(sorted(tmp_path.iterdir()), ProblemLog(tmp_path))


def test_empty_ann_is_a_document_without_entities_but_bad_bytes_are_reported(tmp_path: Path):
    (tmp_path / "n.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "n.ann").write_bytes(b"")
    log = ProblemLog(tmp_path)
    assert read_ann_text(tmp_path / "n.ann", log) == ""
    document = read_document(tmp_path / "n.txt", tmp_path / "n.ann", LABELS, log)
    assert document is not None and document.id == "n" and document.text == TEXT and document.entities == ()
    (tmp_path / "n.ann").write_bytes(b"T1\tDrug 14 21\tasp\xe9rin\n")
    with pytest.raises(CorpusFormatError, match=r"^n\.ann:line 1 \(byte 17\): not valid UTF-8"):
        read_document(tmp_path / "n.txt", tmp_path / "n.ann", LABELS, log)


def test_read_documents_keeps_text_exactly_and_sorts_by_id(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    text = "\n\r\n aspirin\n"  # leading blank lines and a CR: offsets count every character
    for name in ("sub/b", "a"):
        (tmp_path / f"{name}.txt").write_bytes(text.encode())
        (tmp_path / f"{name}.ann").write_text("T1\tDrug 4 11\taspirin\n", encoding="utf-8")
    documents = read_documents(sorted(tmp_path.rglob("*")), LABELS, ProblemLog(tmp_path))
    assert [d.id for d in documents] == ["a", "sub/b"]
    assert all(d.text == text and d.text[4:11] == "aspirin" for d in documents)


def test_is_release_file_skips_archive_debris():
    assert is_release_file(Path("/d/training_20180910/100035.txt"))
    assert not is_release_file(Path("/d/__MACOSX/training_20180910/._100035.txt"))
    assert not is_release_file(Path("/d/training_20180910/._100035.txt"))
