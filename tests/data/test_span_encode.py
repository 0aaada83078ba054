"""Span-head data: candidate enumeration (window edges, maximum width, the cap), gold per window, labels, widths."""

from __future__ import annotations

import numpy as np
import pytest

from mtclin.data import IGNORE_INDEX
from mtclin.data.collate import collate_spans
from mtclin.data.encode_ner import NerWindow
from mtclin.data.encode_spans import (candidate_labels, default_max_width, encode_spans, gold_word_spans,
                                      recall_ceiling, window_candidates)

LABELS = ("ANAT", "DISO")


def window(word_index: list[int], spans=None) -> NerWindow:
    n = len(word_index)
    return NerWindow(np.arange(n, dtype=np.int64), np.array(word_index, dtype=np.int64), None, 0, spans)


def row(words: list[str], gold: list[tuple[int, int, str]], doc_id: str = "d") -> dict:
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    return {"doc_id": doc_id, "segment": 0, "words": words, "starts": starts,
            "ends": [s + len(w) for s, w in zip(starts, words)], "gold_starts": [g[0] for g in gold],
            "gold_ends": [g[1] for g in gold], "gold_types": [g[2] for g in gold]}


def test_candidates_golden_by_width_then_start():
    # [CLS] w0 w1 ##x w2 [SEP]: word w1 has two subwords; positions are those of each word's first subword
    c = window_candidates(window([-1, 0, 1, -1, 2, -1]), max_width=2)
    assert c.first_words.tolist() == [0, 1, 2, 0, 1]
    assert c.last_words.tolist() == [0, 1, 2, 1, 2]
    assert c.starts.tolist() == [1, 2, 4, 1, 2] and c.ends.tolist() == [1, 2, 4, 2, 4]
    assert c.widths.tolist() == [0, 0, 0, 1, 1]


def test_max_width_and_window_edges():
    # a window in the middle of a long example: words 7..10; no span leaves the window, none is wider than 3
    c = window_candidates(window([-1, 7, 8, 9, 10, -1]), max_width=3)
    pairs = list(zip(c.first_words.tolist(), c.last_words.tolist()))
    assert pairs == [(7, 7), (8, 8), (9, 9), (10, 10), (7, 8), (8, 9), (9, 10), (7, 9), (8, 10)]
    assert all(7 <= a <= b <= 10 and b - a < 3 for a, b in pairs)
    # a width larger than the window: every span of the window, once
    assert len(window_candidates(window([-1, 7, 8, -1]), max_width=10)) == 3
    # no words (an empty example): no candidate
    assert len(window_candidates(window([-1, -1]), max_width=4)) == 0


def test_width_counts_a_word_the_tokenizer_dropped():
    # word 1 got no subword: span (0, 2) is 3 words wide, not a candidate at width 2
    c = window_candidates(window([-1, 0, 2, -1]), max_width=2)
    assert list(zip(c.first_words.tolist(), c.last_words.tolist())) == [(0, 0), (2, 2)]


def test_cap_drops_the_widest_candidates_first():
    c = window_candidates(window([-1, 0, 1, 2, 3, -1]), max_width=4, cap=5)
    assert c.widths.tolist() == [0, 0, 0, 0, 1]


def test_gold_word_spans_nested_overlapping_and_unaligned():
    r = row(["cancer", "du", "poumon", "gauche"], [(0, 16, "DISO"), (10, 16, "ANAT"), (10, 23, "DISO"),
                                                   (1, 6, "DISO"), (0, 16, "DISO")])
    spans, unaligned = gold_word_spans(r, LABELS)
    assert spans.tolist() == [[0, 2, 2], [2, 2, 1], [2, 3, 2]]  # duplicates once, sorted, type id = 1 + index
    assert unaligned == 1  # (1, 6) starts inside a word
    with pytest.raises(ValueError, match="gold type 'CHEM' is not one of the task's labels"):
        gold_word_spans(row(["x"], [(0, 1, "CHEM")]), LABELS)


def test_candidate_labels_keep_overlaps_of_different_types():
    w = window([-1, 0, 1, 2, -1], spans=np.array([[0, 1, 2], [1, 1, 1], [1, 2, 1]]))
    c = window_candidates(w, max_width=2)
    labels = dict(zip(zip(c.first_words.tolist(), c.last_words.tolist()), candidate_labels(c, w.spans).tolist()))
    assert labels == {(0, 0): 0, (1, 1): 1, (2, 2): 0, (0, 1): 2, (1, 2): 1}


def test_same_words_under_two_types_take_the_first_type():
    w = window([-1, 0, -1], spans=np.array([[0, 0, 1], [0, 0, 2]]))
    assert candidate_labels(window_candidates(w, 1), w.spans).tolist() == [1]


def test_long_row_windows_hold_only_the_gold_inside_them(tokenizer):
    words = [f"w{i}" for i in range(40)]  # "w1" -> w ##1 : two subwords per word
    r = row(words, [])
    gold = [(r["starts"][a], r["ends"][b], "DISO") for a, b in [(0, 1), (10, 12), (18, 21), (38, 39)]]
    r |= {"gold_starts": [g[0] for g in gold], "gold_ends": [g[1] for g in gold], "gold_types": [g[2] for g in gold]}
    windows = encode_spans([r], tokenizer, LABELS, max_length=22, stride=6)
    assert len(windows) > 2
    seen = set()
    for w in windows:
        words_in = w.word_index[w.word_index >= 0]
        for a, b, _ in w.spans.tolist():
            assert words_in.min() <= a <= b <= words_in.max()  # whole inside the window
            seen.add((a, b))
    assert seen == {(0, 1), (10, 12), (18, 21), (38, 39)}  # every gold entity is in some window


def test_collate_spans_pads_and_labels(tokenizer):
    rows = [row(["cancer", "du", "poumon"], [(0, 16, "DISO"), (10, 16, "ANAT")]), row(["fievre"], [])]
    windows = encode_spans(rows, tokenizer, LABELS, max_length=32, stride=4)
    batch = collate_spans(windows, tokenizer.pad_token_id, max_width=3)
    assert batch["span_starts"].shape == batch["labels"].shape == (2, 6)
    assert batch["span_widths"][1].tolist() == [0] + [-1] * 5  # one candidate, then padding
    assert batch["labels"][1].tolist() == [0] + [IGNORE_INDEX] * 5
    assert sorted(batch["labels"][0].tolist()) == [0, 0, 0, 0, 1, 2]
    unlabelled = collate_spans(encode_spans(rows, tokenizer, None, 32, 4), tokenizer.pad_token_id, 3)
    assert "labels" not in unlabelled and unlabelled["span_starts"].shape == (2, 6)


def test_default_max_width_covers_99_percent_of_train_gold():
    def rows_of(widths):
        words = ["x"] * 8
        r = row(words, [])
        gold = [(r["starts"][i % 3], r["ends"][i % 3 + w - 1], "DISO") for i, w in enumerate(widths)]
        return [dict(r, doc_id=f"d{i}", gold_starts=[g[0]], gold_ends=[g[1]], gold_types=["DISO"])
                for i, g in enumerate(gold)]

    choice = default_max_width(rows_of([1] * 99 + [5]), LABELS)
    assert (choice.max_width, choice.gold, choice.wider, choice.coverage) == (1, 100, 1, pytest.approx(0.99))
    assert default_max_width(rows_of([1] * 98 + [5, 5]), LABELS).max_width == 5
    assert default_max_width(rows_of([2, 3]), LABELS, coverage=0.5).max_width == 2
    assert default_max_width([row(["x"], [])], LABELS).max_width == 1  # no gold at all


def test_recall_ceiling_counts_width_and_word_boundaries():
    r = row(["a", "b", "c", "d"], [(0, 1, "DISO"), (0, 5, "DISO"), (0, 7, "DISO"), (1, 3, "ANAT")])
    assert recall_ceiling([r], LABELS, max_width=3) == pytest.approx(2 / 4)  # width 4 and unaligned lost
    assert recall_ceiling([r], LABELS, max_width=4) == pytest.approx(3 / 4)
    assert recall_ceiling([row(["a"], [])], LABELS, 1) == 1.0
