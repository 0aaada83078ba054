"""nested_recall: recall over the gold entities that share characters with another gold entity."""

from __future__ import annotations

import pytest

from mtclin.evaluate.metrics import flatten_metrics, overlapping_spans, span_prf


def test_overlapping_spans_golden():
    spans = {(0, 16, "DISO"), (10, 16, "ANAT"), (10, 23, "DISO"), (30, 35, "CHEM"), (35, 40, "CHEM"),
             (50, 55, "A"), (50, 55, "B")}
    # adjacent (30-35, 35-40) do not overlap; the same characters under two types do
    assert overlapping_spans(spans) == {(0, 16, "DISO"), (10, 16, "ANAT"), (10, 23, "DISO"), (50, 55, "A"),
                                        (50, 55, "B")}
    assert overlapping_spans({(0, 100, "X"), (1, 2, "Y"), (50, 60, "Z")}) == {(0, 100, "X"), (1, 2, "Y"),
                                                                             (50, 60, "Z")}


def test_nested_recall_counts_only_nested_gold():
    gold = {"d1": {(0, 16, "DISO"), (10, 16, "ANAT"), (20, 25, "CHEM")}, "d2": {(0, 5, "A")}}
    pred = {"d1": [(0, 16, "DISO", 0.9), (20, 25, "CHEM", 0.8)], "d2": [(0, 5, "A", 1.0)]}
    m = span_prf(gold, pred)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["nested_support"] == 2 and m["nested_recall"] == pytest.approx(1 / 2)
    assert flatten_metrics(m)["nested_recall"] == pytest.approx(0.5)
    flat = span_prf({"d": {(0, 1, "A")}}, {"d": [(0, 1, "A")]})
    assert (flat["nested_recall"], flat["nested_support"]) == (0.0, 0)  # none nested: 0.0, not NaN
