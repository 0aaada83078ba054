from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pytest

from mtclin.data.decode import bio_entities, decode_rows, decode_texts, gold_by_doc
from mtclin.data.encode_ner import NerWindow, encode_ner, encode_texts
from mtclin.preprocess.words import word_spans
from tests.data.documents import TASK, find, rows_for

TAGS = TASK.tag_labels  # O B-DISO I-DISO B-CHEM I-CHEM
GARBAGE = TAGS.index("B-CHEM")  # written where decoding must not look: specials, non-first subwords, padding


def predict(windows: Sequence[NerWindow], tag_of: Callable[[int, int], str], pad: int = 3) -> list[np.ndarray]:
    """Per window, tag ids as a padded batch row: ``tag_of(window number, word)`` at first subwords."""
    rows = []
    for k, w in enumerate(windows):
        row = np.full(len(w) + pad, GARBAGE)
        for p in np.flatnonzero(w.word_index >= 0):
            row[p] = TAGS.index(tag_of(k, int(w.word_index[p])))
        rows.append(row)
    return rows


def decode_words(tokenizer, text: str, tags: list[str], max_length: int = 64, stride: int = 4,
                 probs: list[float] | None = None) -> list[tuple]:
    """Decode per-word tags of one raw text through encode_texts -> windows -> decode_texts."""
    windows, spans = encode_texts([text], tokenizer, max_length, stride)
    assert len(tags) == len(spans[0])
    prob_rows = None
    if probs is not None:
        prob_rows = [np.where(w.word_index >= 0, np.asarray(probs)[np.maximum(w.word_index, 0)], 0.0)
                     for w in windows]
    [spans_out] = decode_texts(spans, windows, predict(windows, lambda k, i: tags[i]), TAGS, prob_rows)
    return spans_out


def test_entity_of_several_subwords_takes_the_first_subword_tag(tokenizer):
    text = "Patient took acetaminophen for headaches."  # headaches -> headache ##s
    spans = decode_words(tokenizer, text, ["O", "O", "B-CHEM", "O", "B-DISO", "O"])
    assert spans == [(13, 26, "CHEM", 1.0), (31, 40, "DISO", 1.0)]


def test_entity_crossing_a_window_boundary_is_decoded_once_with_its_char_span(tokenizer):
    text = "Patient denies fever but reports severe chest pain since monday after aspirin."
    words = [text[s:e] for s, e in word_spans(text)]
    tags = ["O"] * len(words)
    first = words.index("severe")
    tags[first:first + 3] = ["B-DISO", "I-DISO", "I-DISO"]
    windows, _ = encode_texts([text], tokenizer, max_length=6, stride=1)
    holding = [set(w.word_index[w.word_index >= 0].tolist()) for w in windows]
    # the windows really cut the entity: some window holds its first word but not its last
    assert any(first in h and first + 2 not in h for h in holding)
    assert decode_words(tokenizer, text, tags, max_length=6, stride=1) == [(33, 50, "DISO", 1.0)]


def test_overlapping_windows_take_the_prediction_farthest_from_the_edge(tokenizer):
    text = "fever cough pain rash nausea"
    windows, spans = encode_texts([text], tokenizer, max_length=6, stride=2)
    # windows: [fever cough pain rash] [pain rash nausea]: "rash" is at the edge of the first window
    # (distance 1) and deeper in the second (distance 2); "pain" is at distance 2 in the first, 1 in the second
    assert [w.word_index[1:-1].tolist() for w in windows] == [[0, 1, 2, 3], [2, 3, 4]]
    # each window tags only the words it is sure of; the edge predictions contradict the central ones
    def tag_of(k: int, i: int) -> str:
        return "B-DISO" if (k, i) in {(0, 2), (1, 3)} else "O"
    [out] = decode_texts(spans, windows, predict(windows, tag_of), TAGS)
    assert out == [(12, 16, "DISO", 1.0), (17, 21, "DISO", 1.0)]


def test_entities_at_the_very_start_and_end_of_a_note(tokenizer):
    text = "Fever and severe headache"
    assert decode_words(tokenizer, text, ["B-DISO", "O", "B-DISO", "I-DISO"]) == [
        (0, 5, "DISO", 1.0), (10, 25, "DISO", 1.0)]


def test_adjacent_entities_of_the_same_type_stay_two(tokenizer):
    text = "chest pain severe headache"
    assert decode_words(tokenizer, text, ["B-DISO", "I-DISO", "B-DISO", "I-DISO"]) == [
        (0, 10, "DISO", 1.0), (11, 26, "DISO", 1.0)]


def test_orphan_i_starts_an_entity_and_a_type_change_ends_one(tokenizer):
    text = "took aspirin then chest pain"
    assert decode_words(tokenizer, text, ["O", "I-CHEM", "O", "I-DISO", "I-DISO"]) == [
        (5, 12, "CHEM", 1.0), (18, 28, "DISO", 1.0)]
    assert decode_words(tokenizer, text, ["O", "B-CHEM", "I-DISO", "I-DISO", "O"]) == [
        (5, 12, "CHEM", 1.0), (13, 23, "DISO", 1.0)]


def test_score_is_the_mean_probability_of_the_entity_words(tokenizer):
    text = "severe chest pain today"
    [(start, end, typ, score)] = decode_words(tokenizer, text, ["B-DISO", "I-DISO", "I-DISO", "O"],
                                              probs=[0.9, 0.6, 0.6, 0.99])
    assert (start, end, typ) == (0, 17, "DISO") and score == pytest.approx(0.7)


def test_a_word_without_subwords_is_skipped_inside_a_run(tokenizer):
    text = "severe\u0301 chest pain"  # the lone combining accent is a word the tokenizer drops
    assert len(word_spans(text)) == 4
    assert decode_words(tokenizer, text, ["B-DISO", "I-DISO", "I-DISO", "I-DISO"]) == [(0, 18, "DISO", 1.0)]


def test_bio_entities_on_word_tag_ids():
    ids = np.array([1, 2, -1, 0, 3, 3, 4])  # B-DISO I-DISO (none) O B-CHEM B-CHEM I-CHEM
    starts, ends = list(range(0, 70, 10)), list(range(5, 75, 10))
    assert bio_entities(ids, np.ones(7), starts, ends, TAGS) == [
        (0, 15, "DISO", 1.0), (40, 45, "CHEM", 1.0), (50, 65, "CHEM", 1.0)]


def test_round_trip_of_a_multi_window_multi_segment_document_gives_the_gold_spans(tokenizer):
    text = ("Patient denies fever but reports severe chest pain since monday. Started aspirin and heparin, "
            "chest pain improved.\nHeadaches resolved after acetaminophen. Follow up for hypertension.")
    gold = [find(text, "fever", "DISO"), find(text, "severe chest pain", "DISO"), find(text, "aspirin", "CHEM"),
            find(text, "heparin", "CHEM"), find(text, "chest pain", "DISO", 1), find(text, "Headaches", "DISO"),
            find(text, "acetaminophen", "CHEM"), find(text, "hypertension", "DISO")]
    rows = rows_for("notes/1", text, gold, cuts=[13]) + rows_for("notes/2", "No complaints.", [])
    windows = encode_ner(rows, tokenizer, TAGS, max_length=8, stride=3)
    assert sum(w.example_index == 0 for w in windows) > 2
    pred = decode_rows(rows, windows, [w.labels for w in windows], TAGS)
    assert {doc: {s[:3] for s in spans} for doc, spans in pred.items()} == gold_by_doc(rows)
    assert gold_by_doc(rows) == {"notes/1": set(gold), "notes/2": set()}


@pytest.mark.parametrize("seed", range(8))
def test_round_trip_on_random_documents(tokenizer, seed):
    rng = np.random.default_rng(seed)
    vocab = ["pain", "fever", "aspirin", "headaches", "zq", "took", ",", "12", "acetaminophen", "xyzzy", "."]
    words = list(rng.choice(vocab, size=int(rng.integers(1, 60))))
    text = " ".join(words)
    spans, offsets, i = [], word_spans(text), 0
    while i < len(words):
        n = int(rng.integers(1, 4))
        if rng.random() < 0.4 and i + n <= len(words):
            spans.append((offsets[i][0], offsets[i + n - 1][1], str(rng.choice(["DISO", "CHEM"]))))
            i += n
        else:
            i += 1
    rows = rows_for("d", text, spans)
    max_length = int(rng.integers(4, 20))
    windows = encode_ner(rows, tokenizer, TAGS, max_length=max_length, stride=int(rng.integers(0, max_length - 2)))
    pred = decode_rows(rows, windows, [w.labels for w in windows], TAGS)
    assert [s[:3] for s in pred["d"]] == sorted(spans)


def test_round_trip_with_the_minilm_tokenizer(minilm_tokenizer):
    text = "Acetaminophenx relieved the patient's headaches; hypertension persisted."
    gold = [find(text, "Acetaminophenx", "CHEM"), find(text, "headaches", "DISO"), find(text, "hypertension", "DISO")]
    rows = rows_for("d", text, gold)
    windows = encode_ner(rows, minilm_tokenizer, TAGS, max_length=7, stride=2)
    assert len(windows) > 2
    pred = decode_rows(rows, windows, [w.labels for w in windows], TAGS)
    assert pred == {"d": [(*s, 1.0) for s in sorted(gold)]}


def test_mismatched_prediction_rows_are_refused(tokenizer):
    windows, spans = encode_texts(["fever"], tokenizer, 16, 2)
    with pytest.raises(ValueError, match="1 windows but 2 tag rows"):
        decode_texts(spans, windows, [np.zeros(3), np.zeros(3)], TAGS)


def test_non_bio_tag_labels_are_refused():
    with pytest.raises(ValueError, match="not BIO"):
        bio_entities(np.array([0]), np.ones(1), [0], [1], ("O", "DISO"))


def reference_entities(tags: list[str], scores: list[float]) -> list[tuple]:
    """The documented BIO rule written as a plain loop over words (word i spans [10 i, 10 i + 5))."""
    out, current = [], None
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and current is not None and current[2] == tag[2:]:
            current[1] = i
            current[3].append(scores[i])
            continue
        if current is not None:
            out.append((current[0] * 10, current[1] * 10 + 5, current[2], float(np.mean(current[3]))))
        current = [i, i, tag[2:], [scores[i]]] if tag != "O" else None
    if current is not None:
        out.append((current[0] * 10, current[1] * 10 + 5, current[2], float(np.mean(current[3]))))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_bio_entities_match_the_rule_written_as_a_loop(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(TAGS), size=200)
    scores = rng.random(200)
    got = bio_entities(ids, scores, list(range(0, 2000, 10)), list(range(5, 2005, 10)), TAGS)
    want = reference_entities([TAGS[i] for i in ids], scores.tolist())
    assert [g[:3] for g in got] == [w[:3] for w in want]
    np.testing.assert_allclose([g[3] for g in got], [w[3] for w in want])
