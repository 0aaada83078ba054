from __future__ import annotations

import math

import pytest

from mtclin.evaluate.metrics import classification_metrics, correlation_metrics, flatten_metrics, span_prf


def test_span_prf_exact_match_micro_over_documents_with_per_type():
    gold = {"d1": {(0, 5, "DISO"), (10, 17, "CHEM")}, "d2": {(3, 9, "DISO")}, "d3": {(1, 2, "CHEM")}}
    pred = {
        "d1": [(0, 5, "DISO", 0.9), (10, 15, "CHEM", 0.8)],  # partial overlap: one FP and one FN
        "d2": [(3, 9, "CHEM", 0.7)],  # right span, wrong type: FP (CHEM) and FN (DISO)
        "d4": [(0, 1, "DISO", 0.5)],  # a document without gold
    }
    m = span_prf(gold, pred)
    assert (m["tp"], m["fp"], m["fn"], m["support"]) == (1, 3, 3, 4)
    assert m["precision"] == pytest.approx(1 / 4) and m["recall"] == pytest.approx(1 / 4)
    assert m["f1"] == pytest.approx(1 / 4)
    diso, chem = m["per_type"]["DISO"], m["per_type"]["CHEM"]
    assert (diso["tp"], diso["fp"], diso["fn"], diso["support"]) == (1, 1, 1, 2)
    assert diso["precision"] == pytest.approx(0.5) and diso["recall"] == pytest.approx(0.5)
    assert (chem["tp"], chem["fp"], chem["fn"], chem["support"]) == (0, 2, 2, 2)
    assert chem["f1"] == 0.0


def test_span_prf_hand_computed_unequal_precision_and_recall():
    gold = {"d": {(0, 1, "A"), (2, 3, "A"), (4, 5, "A"), (6, 7, "B")}}
    pred = {"d": {(0, 1, "A"), (2, 3, "A"), (6, 7, "B"), (6, 7, "B")}}  # a duplicate counts once
    m = span_prf(gold, pred)
    assert m["precision"] == 1.0 and m["recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert m["per_type"]["A"]["recall"] == pytest.approx(2 / 3) and m["per_type"]["B"]["f1"] == 1.0


@pytest.mark.parametrize("gold,pred", [({}, {}), ({"d": set()}, {"d": []}), ({"d": {(0, 1, "A")}}, {}),
                                       ({}, {"d": [(0, 1, "A", 1.0)]})])
def test_span_prf_empty_sides_give_zero_not_nan(gold, pred):
    m = span_prf(gold, pred)
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)
    assert not any(math.isnan(v) for v in flatten_metrics(m).values())


def test_classification_metrics_hand_computed():
    labels = ["entailment", "not_entailment"]
    gold = ["entailment", "entailment", "entailment", "not_entailment"]
    pred = [0, 0, 1, 1]  # indices or strings alike
    m = classification_metrics(gold, pred, labels)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["confusion"] == [[2, 1], [0, 1]] and m["labels"] == labels
    # F1(entailment) = 2*1*(2/3)/(5/3) = 0.8; F1(not) = 2*0.5*1/1.5 = 2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_classification_macro_f1_skips_absent_classes_and_empty_is_zero():
    m = classification_metrics([0, 0], [0, 0], ["a", "b", "c"])
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0 and m["confusion"][0] == [2, 0, 0]
    empty = classification_metrics([], [], ["a", "b"])
    assert empty["accuracy"] == 0.0 and empty["macro_f1"] == 0.0 and empty["confusion"] == [[0, 0], [0, 0]]


def test_classification_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        classification_metrics([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match="'c' is not one of"):
        classification_metrics(["c"], [0], ["a", "b"])
    with pytest.raises(ValueError, match="out of range"):
        classification_metrics([2], [0], ["a", "b"])


def test_correlations_hand_computed():
    m = correlation_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 10.0])
    # Pearson: x-mean = (-1.5,-.5,.5,1.5), y-mean = (-3,-2,-1,6); sum xy = 14, |x|^2 = 5, |y|^2 = 50
    assert m["pearson"] == pytest.approx(14 / math.sqrt(5 * 50)) and m["spearman"] == pytest.approx(1.0)
    tied = correlation_metrics([1, 2, 2, 3], [3, 2, 2, 1])
    assert tied["spearman"] == pytest.approx(-1.0) and tied["pearson"] == pytest.approx(-1.0)


@pytest.mark.parametrize("gold,pred", [([1, 2, 3], [2.5, 2.5, 2.5]), ([2, 2, 2], [1, 2, 3]), ([1], [1]), ([], [])])
def test_correlations_undefined_are_zero(gold, pred):
    assert correlation_metrics(gold, pred) == {"pearson": 0.0, "spearman": 0.0}


def test_correlation_errors():
    with pytest.raises(ValueError, match="one score per example"):
        correlation_metrics([1, 2], [1])
    with pytest.raises(ValueError, match="NaN"):
        correlation_metrics([1, 2], [1, float("nan")])


def test_flatten_metrics_for_trackers():
    flat = flatten_metrics(span_prf({"d": {(0, 1, "A")}}, {"d": {(0, 1, "A")}}), prefix="ner.")
    assert flat["ner.f1"] == 1.0 and flat["ner.per_type.A.support"] == 1.0
    assert flatten_metrics({"labels": ["a"], "confusion": [[1]], "accuracy": 1}) == {"accuracy": 1.0}
