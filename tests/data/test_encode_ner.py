from __future__ import annotations

import numpy as np
import pytest

from mtclin.data import IGNORE_INDEX
from mtclin.data.encode_ner import NerWindow, encode_ner, encode_texts
from mtclin.preprocess.words import word_spans
from tests.data.documents import TASK, find, rows_for

TEXT = "Patient took acetaminophen for headaches."
LONG = ("Patient denies fever but reports severe chest pain since monday. Started aspirin and heparin, "
        "pain improved. Headaches resolved after acetaminophen. Follow up in clinic with cardiology in two weeks.")


def content(window: NerWindow) -> np.ndarray:
    return window.input_ids[1:-1]


def test_first_subword_gets_the_label_other_subwords_and_specials_are_ignored(tokenizer):
    rows = rows_for("d", TEXT, [find(TEXT, "acetaminophen", "CHEM"), find(TEXT, "headaches", "DISO")])
    [window] = encode_ner(rows, tokenizer, TASK.tag_labels, max_length=64, stride=8)
    assert tokenizer.convert_ids_to_tokens(window.input_ids.tolist()) == [
        "[CLS]", "patient", "took", "acetaminophen", "for", "headache", "##s", ".", "[SEP]"]
    o, b_diso, b_chem = 0, TASK.tag_labels.index("B-DISO"), TASK.tag_labels.index("B-CHEM")
    ig = IGNORE_INDEX
    assert window.labels.tolist() == [ig, o, o, b_chem, o, b_diso, ig, o, ig]
    assert window.word_index.tolist() == [-1, 0, 1, 2, 3, 4, -1, 5, -1]
    assert window.example_index == 0 and window.input_ids.dtype == np.int64


@pytest.mark.parametrize("max_length,stride", [(6, 0), (6, 2), (9, 3), (12, 8), (20, 5)])
def test_windows_start_at_word_starts_cover_every_word_and_overlap_by_stride(tokenizer, max_length, stride):
    rows = rows_for("d", LONG, [])
    [full] = encode_ner(rows, tokenizer, TASK.tag_labels, max_length=512, stride=0)
    windows = encode_ner(rows, tokenizer, TASK.tag_labels, max_length=max_length, stride=stride)
    assert len(windows) > 1
    ids, first = content(full).tolist(), full.word_index[1:-1] >= 0
    seen, previous = set(), None
    for w in windows:
        assert len(w) <= max_length
        assert w.input_ids[0] == tokenizer.cls_token_id and w.input_ids[-1] == tokenizer.sep_token_id
        assert w.word_index[1] >= 0  # starts on a word's first subword
        # the window is a contiguous slice of the unwindowed subwords, ending before a word start
        start = next(s for s in range(len(ids)) if ids[s:s + len(w) - 2] == content(w).tolist()
                     and (previous is None or s > previous[0]))
        end = start + len(w) - 2
        one_word_cut = first[start:end].sum() == 1  # a word longer than the window is the only exception
        assert first[start] and (end == len(ids) or first[end] or one_word_cut)
        if previous is not None:  # overlap >= stride unless only a word-start move forward was possible
            overlap = previous[1] - start
            next_word_start = next(k for k in range(previous[0] + 1, len(ids)) if first[k])
            assert overlap >= stride or start == next_word_start
        previous = (start, end)
        seen.update(w.word_index[w.word_index >= 0].tolist())
        words = w.word_index[w.word_index >= 0]
        np.testing.assert_array_equal(w.labels[w.word_index >= 0], full.labels[1:-1][first][words])
    assert previous[1] == len(ids)
    assert seen == set(range(len(rows[0]["words"])))


def test_each_row_is_tokenized_and_indexed_separately(tokenizer):
    rows = rows_for("d", LONG, [], cuts=[12, 20])
    windows = encode_ner(rows, tokenizer, TASK.tag_labels, max_length=10, stride=2)
    assert sorted({w.example_index for w in windows}) == [0, 1, 2]
    assert [w.example_index for w in windows] == sorted(w.example_index for w in windows)
    for i, row in enumerate(rows):
        covered = set().union(*(w.word_index[w.word_index >= 0].tolist() for w in windows if w.example_index == i))
        assert covered == set(range(len(row["words"])))


def test_a_word_longer_than_a_window_is_cut_and_the_next_word_still_starts_a_window(tokenizer):
    words = ["ab", "zyxwvutsrq", "pain"]  # the middle word is 10 single-letter subwords
    windows = encode_ner([{"words": words, "tags": ["O", "O", "O"]}], tokenizer, TASK.tag_labels,
                         max_length=6, stride=1)
    assert all(len(w) <= 6 for w in windows)
    assert set().union(*(w.word_index[w.word_index >= 0].tolist() for w in windows)) == {0, 1, 2}
    assert all(w.word_index[1] >= 0 for w in windows)


def test_an_empty_example_gives_one_empty_window(tokenizer):
    windows, spans = encode_texts(["", "fever"], tokenizer, max_length=16, stride=2)
    assert [w.example_index for w in windows] == [0, 1]
    assert windows[0].input_ids.tolist() == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    assert windows[0].word_index.tolist() == [-1, -1] and windows[0].labels is None
    assert spans == [[], [(0, 5)]]


def test_encode_texts_uses_the_preprocessing_words_and_keeps_offsets(tokenizer):
    windows, spans = encode_texts([TEXT], tokenizer, max_length=64, stride=4)
    assert spans == [word_spans(TEXT)]
    [window] = windows
    assert window.labels is None and window.word_index.max() == len(spans[0]) - 1


def test_rows_without_tag_labels_encode_unlabelled(tokenizer):
    rows = rows_for("d", TEXT, [])
    [window] = encode_ner(rows, tokenizer, None, max_length=64, stride=4)
    assert window.labels is None


def test_minilm_tokenizer_aligns_subwords(minilm_tokenizer):
    rows = rows_for("d", "Acetaminophenx relieved headaches.", [(0, 14, "CHEM")])
    [window] = encode_ner(rows, minilm_tokenizer, TASK.tag_labels, max_length=64, stride=4)
    tokens = minilm_tokenizer.convert_ids_to_tokens(window.input_ids.tolist())
    assert tokens[:3] == ["[CLS]", "ace", "##tam"] and tokens[-1] == "[SEP]"
    n_sub = tokens.index("relieved") - 1  # subwords of the first word
    assert window.labels[1] == TASK.tag_labels.index("B-CHEM")
    assert (window.labels[2:1 + n_sub] == IGNORE_INDEX).all()
    assert window.word_index[1 + n_sub] == 1


def test_unknown_tag_names_the_row(tokenizer):
    rows = rows_for("notes/0012", TEXT, [find(TEXT, "headaches", "DISO")])
    rows[0]["tags"][4] = "B-ANAT"
    with pytest.raises(ValueError, match=r"doc_id='notes/0012'.*'B-ANAT'"):
        encode_ner(rows, tokenizer, TASK.tag_labels, max_length=64, stride=4)


def test_words_and_tags_of_different_lengths_are_refused(tokenizer):
    rows = rows_for("d", TEXT, [])
    rows[0]["tags"] = rows[0]["tags"][:-1]
    with pytest.raises(ValueError, match="6 words but 5 tags"):
        encode_ner(rows, tokenizer, TASK.tag_labels, max_length=64, stride=4)


@pytest.mark.parametrize("max_length,stride,key", [(2, 0, "max_length"), (8, 6, "stride"), (8, -1, "stride")])
def test_bad_window_settings_are_refused(tokenizer, max_length, stride, key):
    with pytest.raises(ValueError, match=key):
        encode_texts([TEXT], tokenizer, max_length=max_length, stride=stride)


def test_a_slow_tokenizer_is_refused():
    class Slow:
        is_fast = False

    with pytest.raises(ValueError, match="not a fast tokenizer"):
        encode_texts([TEXT], Slow(), max_length=16, stride=2)
