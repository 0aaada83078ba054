"""Span decoding golden cases: nested and overlapping spans kept, the threshold, windows deciding once, back to
characters."""

from __future__ import annotations

import numpy as np
import pytest

from mtclin.data.decode_spans import decode_span_rows, decode_span_texts, example_spans
from mtclin.data.encode_ner import NerWindow, encode_texts
from mtclin.data.encode_spans import window_candidates

LABELS = ("ANAT", "DISO")


def window(word_index: list[int], example: int = 0) -> NerWindow:
    return NerWindow(np.arange(len(word_index)), np.array(word_index, dtype=np.int64), None, example)


def scores_for(w: NerWindow, max_width: int, decided: dict[tuple[int, int], tuple[float, int, float]]):
    """Per candidate of ``w``: (P(entity), type, P(type)) from ``decided``, else a confident none."""
    c = window_candidates(w, max_width)
    rows = [decided.get(k, (0.01, 0, 0.5)) for k in zip(c.first_words.tolist(), c.last_words.tolist())]
    return tuple(np.array([r[i] for r in rows]) for i in range(3))


def test_nested_and_overlapping_spans_of_different_types_are_kept_in_characters():
    # "cancer du poumon gauche": DISO over words 0-2, ANAT on 2, DISO over 2-3 overlapping the first
    text = "cancer du poumon gauche"
    w = window([-1, 0, 1, 2, 3, -1])
    decided = {(0, 2): (0.9, 1, 0.8), (2, 2): (0.7, 0, 0.6), (2, 3): (0.6, 1, 0.55), (1, 1): (0.4, 0, 0.3)}
    starts, ends = [0, 7, 10, 17], [6, 9, 16, 23]
    rows = [{"doc_id": "d", "starts": starts, "ends": ends}]
    got = decode_span_rows(rows, [w], [scores_for(w, 3, decided)], LABELS, max_width=3, threshold=0.5)
    assert got == {"d": [(0, 16, "DISO", 0.8), (10, 16, "ANAT", 0.6), (10, 23, "DISO", 0.55)]}
    assert [text[s:e] for s, e, _, _ in got["d"]] == ["cancer du poumon", "poumon", "poumon gauche"]
    lower = decode_span_rows(rows, [w], [scores_for(w, 3, decided)], LABELS, max_width=3, threshold=0.3)
    assert (7, 9, "ANAT", 0.3) in lower["d"]  # the threshold is on P(entity)


def test_a_span_in_two_windows_is_decided_once_by_the_one_with_more_context():
    # example words 0..5; window A holds 0..3, window B holds 2..5; span (2, 3) sits at A's edge, inside B
    a, b = window([-1, 0, 1, 2, 3, -1]), window([-1, 2, 3, 4, 5, -1])
    sa = scores_for(a, 2, {(2, 3): (0.9, 0, 0.9)})  # at A's right edge: distance 1
    sb = scores_for(b, 2, {(2, 3): (0.1, 1, 0.1)})  # B: distance 1 too -> tie -> the earlier window (A)
    ex = example_spans([a, b], [sa, sb], 2, 1)[0]
    k = list(zip(ex.first_words.tolist(), ex.last_words.tolist())).index((2, 3))
    assert ex.entity_probs[k] == 0.9
    assert len(set(zip(ex.first_words.tolist(), ex.last_words.tolist()))) == len(ex.first_words)  # each once
    c = window([-1, 1, 2, 3, 4, 5, -1])  # span (2, 3) at distance 2 from both edges: more context than in A
    sc = scores_for(c, 2, {(2, 3): (0.2, 1, 0.2)})
    ex = example_spans([a, c], [sa, sc], 2, 1)[0]
    k = list(zip(ex.first_words.tolist(), ex.last_words.tolist())).index((2, 3))
    assert ex.entity_probs[k] == 0.2


def test_decode_texts_maps_back_to_characters(tokenizer):
    texts = ["fever and cough", "", "chest pain"]
    windows, spans = encode_texts(texts, tokenizer, 32, 4)
    width = 2
    wanted = {0: {(1, 2): (0.8, 1, 0.7)}, 2: {(0, 1): (0.9, 1, 0.9), (1, 1): (0.6, 0, 0.6)}}
    scores = [scores_for(w, width, wanted.get(w.example_index, {})) for w in windows]
    got = decode_span_texts(spans, windows, scores, LABELS, width, 0.5)
    assert got == [[(6, 15, "DISO", 0.7)], [], [(0, 10, "DISO", 0.9), (6, 10, "ANAT", 0.6)]]
    assert texts[2][6:10] == "pain"


def test_mismatched_scores_are_an_error_naming_the_fix():
    w = window([-1, 0, 1, -1])
    with pytest.raises(ValueError, match="1 windows but 0 score rows"):
        example_spans([w], [], 2, 1)
    short = tuple(np.zeros(1) for _ in range(3))
    with pytest.raises(ValueError, match="3 candidate spans but 1 scores"):
        example_spans([w], [short], 2, 1)
