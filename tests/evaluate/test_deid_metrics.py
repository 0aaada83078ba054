"""De-identification scores (metrics.deid_prf) on constructed examples: perfect, partial, spurious; type-blind,
overlaps merged as deid merges them, whitespace between replaced words exempt when words are given."""

from __future__ import annotations

import pytest

from mtclin.evaluate.metrics import deid_prf

# "Dr. John Smith seen 2067-05-03 ." : words and PHI of one note
WORDS = {"d": [(0, 3), (4, 8), (9, 14), (15, 19), (20, 30), (31, 32)]}
GOLD = {"d": {(4, 14, "DOCTOR"), (20, 30, "DATE")}}


def scores(gold, pred, words=None) -> tuple:
    m = deid_prf(gold, pred, words)
    return (m["deid_precision"], m["deid_recall"], m["deid_f1"], m["deid_removed"], m["deid_gold"],
            m["deid_correct"], m["deid_replaced"])


def test_perfect() -> None:
    assert scores(GOLD, {"d": [(4, 14, "DOCTOR", 0.9), (20, 30, "DATE", 0.8)]}) == (1.0, 1.0, 1.0, 2, 2, 2, 2)


def test_type_does_not_matter_and_a_wider_region_still_removes() -> None:
    # the name replaced as PATIENT, the date inside a region that also takes "seen ": both removed, both correct
    assert scores(GOLD, {"d": [(4, 14, "PATIENT"), (15, 30, "DATE")]}) == (1.0, 1.0, 1.0, 2, 2, 2, 2)


def test_partial() -> None:
    # only "John" of "John Smith" replaced: the name is not removed (Smith leaks) but the region is correct
    p, r, f1, *counts = scores(GOLD, {"d": [(4, 8, "DOCTOR"), (20, 30, "DATE")]})
    assert (p, r, counts) == (1.0, 0.5, [1, 2, 2, 2]) and f1 == pytest.approx(2 / 3)


def test_spurious() -> None:
    # "seen" replaced although it is no PHI: one wrong region of three; a document without gold counts too
    pred = {"d": [(4, 14, "DOCTOR"), (15, 19, "DATE"), (20, 30, "DATE")], "e": [(0, 4, "AGE")]}
    p, r, f1, *counts = scores(GOLD | {"e": set()}, pred)
    assert (p, r, counts) == (0.5, 1.0, [2, 2, 2, 4]) and f1 == pytest.approx(2 / 3)


def test_nothing_predicted_and_nothing_gold() -> None:
    assert scores(GOLD, {}) == (0.0, 0.0, 0.0, 0, 2, 0, 0)
    assert scores({}, {}) == (0.0, 0.0, 0.0, 0, 0, 0, 0)


def test_overlapping_predictions_are_one_region() -> None:
    # three overlapping predictions over the name are one replaced region, as deid replaces them
    pred = {"d": [(4, 8, "DOCTOR"), (4, 14, "PATIENT"), (6, 14, "DOCTOR"), (20, 30, "DATE")]}
    assert scores(GOLD, pred) == (1.0, 1.0, 1.0, 2, 2, 2, 2)


def test_the_space_between_two_replaced_words_leaks_nothing_when_words_are_given() -> None:
    split_name = {"d": [(4, 8, "DOCTOR"), (9, 14, "DOCTOR"), (20, 30, "DATE")]}  # "[DOCTOR] [DOCTOR]"
    assert scores(GOLD, split_name)[:2] == (1.0, 0.5)  # character level: the space is not replaced
    assert scores(GOLD, split_name, WORDS)[:2] == (1.0, 1.0)
    # but a word character left is still a leak
    assert scores(GOLD, {"d": [(4, 8, "DOCTOR"), (10, 14, "DOCTOR")]}, WORDS)[1] == 0.0
