"""Golden cases for de-identification (mtclin.deid): adjacent and overlapping PHI, exact offsets in both texts,
surrogates consistent per note, and the errors (offsets only, never text)."""

from __future__ import annotations

import pytest

from mtclin.deid import PHI_TASK, Replacement, deidentify, merge_spans, phi_task
from mtclin.tasks import TaskSpec

# Synthetic note; offsets below are literal (golden), checked against the text once in test_golden_offsets_fit.
TEXT = ("Dr. John Smith saw MARY JONES (MRN 8675309Boston) on 2067-05-03; Mary  Jones at Boston City Hospital, "
        "cc Dr. Lee.")
ENTITIES = [
    {"start": 4, "end": 14, "type": "DOCTOR", "score": 0.9},        # "John Smith"
    {"start": 4, "end": 14, "type": "PATIENT", "score": 0.6},       # same characters, another type: one region
    {"start": 19, "end": 29, "type": "PATIENT", "score": 0.8},      # "MARY JONES"
    {"start": 35, "end": 42, "type": "MEDICALRECORD", "score": 0.99},  # "8675309", adjacent to ...
    {"start": 42, "end": 48, "type": "CITY", "score": 0.7},         # ... "Boston": two replacements
    {"start": 53, "end": 63, "type": "DATE", "score": 0.95},        # "2067-05-03"
    {"start": 65, "end": 76, "type": "PATIENT", "score": 0.85},     # "Mary  Jones": MARY JONES again
    {"start": 80, "end": 86, "type": "CITY", "score": 0.97},        # "Boston" nested in ...
    {"start": 80, "end": 91, "type": "ORGANIZATION", "score": 0.5},  # "Boston City" nested in ...
    {"start": 80, "end": 100, "type": "HOSPITAL", "score": 0.75},   # "Boston City Hospital": the longest wins
    {"start": 109, "end": 112, "type": "DOCTOR", "score": 0.88},    # "Lee": a second doctor
]


def test_golden_offsets_fit() -> None:
    got = [TEXT[e["start"]:e["end"]] for e in ENTITIES]
    assert got == ["John Smith", "John Smith", "MARY JONES", "8675309", "Boston", "2067-05-03", "Mary  Jones",
                   "Boston", "Boston City", "Boston City Hospital", "Lee"]


def test_brackets_with_adjacent_and_overlapping_spans() -> None:
    done = deidentify(TEXT, ENTITIES)
    assert done.text == ("Dr. [DOCTOR] saw [PATIENT] (MRN [MEDICALRECORD][CITY]) on [DATE]; [PATIENT] at "
                         "[HOSPITAL], cc Dr. [DOCTOR].")
    assert done.replaced == (
        Replacement(4, 14, "DOCTOR", 4, 12, "[DOCTOR]", 0.9, 2),
        Replacement(19, 29, "PATIENT", 17, 26, "[PATIENT]", 0.8, 1),
        Replacement(35, 42, "MEDICALRECORD", 32, 47, "[MEDICALRECORD]", 0.99, 1),
        Replacement(42, 48, "CITY", 47, 53, "[CITY]", 0.7, 1),
        Replacement(53, 63, "DATE", 58, 64, "[DATE]", 0.95, 1),
        Replacement(65, 76, "PATIENT", 66, 75, "[PATIENT]", 0.85, 1),
        Replacement(80, 100, "HOSPITAL", 79, 89, "[HOSPITAL]", 0.75, 3),
        Replacement(109, 112, "DOCTOR", 98, 106, "[DOCTOR]", 0.88, 1),
    )


def test_surrogates_are_consistent_within_a_note() -> None:
    done = deidentify(TEXT, ENTITIES, surrogates=True)
    # MARY JONES and Mary  Jones are one patient (case and spacing ignored); Smith and Lee two doctors
    assert done.text == ("Dr. [DOCTOR-1] saw [PATIENT-1] (MRN [MEDICALRECORD-1][CITY-1]) on [DATE-1]; [PATIENT-1] at "
                         "[HOSPITAL-1], cc Dr. [DOCTOR-2].")
    assert [(r.start, r.end, r.output_start, r.output_end, r.replacement) for r in done.replaced] == [
        (4, 14, 4, 14, "[DOCTOR-1]"), (19, 29, 19, 30, "[PATIENT-1]"), (35, 42, 36, 53, "[MEDICALRECORD-1]"),
        (42, 48, 53, 61, "[CITY-1]"), (53, 63, 66, 74, "[DATE-1]"), (65, 76, 76, 87, "[PATIENT-1]"),
        (80, 100, 91, 103, "[HOSPITAL-1]"), (109, 112, 112, 122, "[DOCTOR-2]")]
    # numbering restarts per note and follows first occurrence
    other = deidentify("Lee met Smith; Lee", [(0, 3, "DOCTOR"), (8, 13, "DOCTOR"), (15, 18, "DOCTOR")], True)
    assert other.text == "[DOCTOR-1] met [DOCTOR-2]; [DOCTOR-1]"


@pytest.mark.parametrize("surrogates", [False, True])
def test_offsets_are_exact_in_both_texts(surrogates: bool) -> None:
    """Outside the replaced regions the two texts are the same characters, in the same order."""
    done = deidentify(TEXT, ENTITIES, surrogates)
    pos = out = 0
    for r in done.replaced:
        assert TEXT[pos:r.start] == done.text[out:r.output_start]
        assert done.text[r.output_start:r.output_end] == r.replacement
        pos, out = r.end, r.output_end
    assert TEXT[pos:] == done.text[out:]


def test_chains_of_partial_overlaps_are_one_region() -> None:
    # A [0,5) overlaps B [3,9), B overlaps C [8,12); A and C do not: still one region; B is the longest
    merged = merge_spans([(0, 5, "CITY", 0.9), (3, 9, "STREET", 0.5), (8, 12, "ZIP", 0.9), (12, 14, "STATE", 0.8)])
    assert merged == [((0, 12, "STREET", 0.5), 3), ((12, 14, "STATE", 0.8), 1)]
    # equal length: the higher score, then the earlier start, then the type name
    assert merge_spans([(0, 4, "DOCTOR", 0.4), (0, 4, "PATIENT", 0.7)]) == [((0, 4, "PATIENT", 0.7), 2)]
    assert merge_spans([(2, 6, "B", 0.5), (0, 4, "A", 0.5)]) == [((0, 6, "A", 0.5), 2)]
    assert merge_spans([(0, 4, "B", 0.5), (0, 4, "A", 0.5)]) == [((0, 4, "A", 0.5), 2)]


def test_no_entities_empty_spans_and_empty_text() -> None:
    assert deidentify(TEXT, []).text == TEXT and deidentify(TEXT, []).replaced == ()
    assert deidentify("", []).to_json() == {"text": "", "replaced": []}
    assert deidentify("abc", [(1, 1, "DATE")]).text == "abc"  # an empty span replaces nothing
    whole = deidentify("abc", [(0, 3, "AGE")])
    assert whole.text == "[AGE]" and whole.to_json()["replaced"][0] == {
        "start": 0, "end": 3, "type": "AGE", "output_start": 0, "output_end": 5, "replacement": "[AGE]",
        "score": 1.0, "merged": 1}


def test_a_span_outside_the_text_is_refused_by_offsets_only() -> None:
    with pytest.raises(ValueError, match=r"entity 1 \(DATE 10:40\) is outside the text \(length 30\)") as err:
        deidentify("Zqvcanarywx seen on 2067-05-03", [(0, 11, "PATIENT"), (10, 40, "DATE")])
    assert "Zqvcanarywx" not in str(err.value)


def test_phi_task_names_what_to_pass() -> None:
    tasks = [TaskSpec("n2c2-2018", "ner", ("Drug",)), TaskSpec("medrqe", "nli", ("false", "true"))]
    assert phi_task([*tasks, TaskSpec(PHI_TASK, "ner", ("DATE",))]) == PHI_TASK
    assert phi_task(tasks, "n2c2-2018") == "n2c2-2018"
    with pytest.raises(ValueError, match=r"runs/m has no PHI task 'i2b2-2014' .*pass --task .*\(n2c2-2018\)"):
        phi_task(tasks, where="runs/m")
    with pytest.raises(ValueError, match=r"task 'medrqe' is nli, not NER"):
        phi_task(tasks, "medrqe")
