from __future__ import annotations

import pytest

from mtclin.data.encode_pairs import encode_pairs

NLI = ("entailment", "not_entailment")


def test_pair_layout_token_types_and_label_index(tokenizer):
    [ex] = encode_pairs([{"id": "p1", "a": "Chest pain.", "b": "Pain", "label": "not_entailment"}], tokenizer,
                        "nli", NLI, max_length=32)
    assert tokenizer.convert_ids_to_tokens(ex.input_ids.tolist()) == [
        "[CLS]", "chest", "pain", ".", "[SEP]", "pain", "[SEP]"]
    assert ex.token_type_ids.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert ex.label == 1 and ex.example_index == 0


def test_longest_first_truncation_keeps_both_sentences(tokenizer):
    a = "patient reports severe chest pain and fever and cough since monday"
    [ex] = encode_pairs([{"a": a, "b": "fever", "score": 3.5}], tokenizer, "sts", (), max_length=8)
    tokens = tokenizer.convert_ids_to_tokens(ex.input_ids.tolist())
    assert len(tokens) == 8 and tokens == ["[CLS]", "patient", "reports", "severe", "chest", "[SEP]", "fever", "[SEP]"]
    assert ex.label == 3.5 and isinstance(ex.label, float)


def test_missing_labels_encode_for_inference(tokenizer):
    examples = encode_pairs([{"a": "fever", "b": "cough"}, {"a": "x", "b": "y", "label": None}], tokenizer,
                            "nli", NLI, max_length=16)
    assert [e.label for e in examples] == [None, None] and [e.example_index for e in examples] == [0, 1]
    assert encode_pairs([], tokenizer, "nli", NLI, max_length=16) == []


def test_unknown_label_names_the_row(tokenizer):
    with pytest.raises(ValueError, match=r"id='q7'.*'contradiction'"):
        encode_pairs([{"id": "q7", "a": "a", "b": "b", "label": "contradiction"}], tokenizer, "nli", NLI, 16)


def test_ner_kind_is_refused(tokenizer):
    with pytest.raises(ValueError, match="encode_ner"):
        encode_pairs([{"a": "a", "b": "b"}], tokenizer, "ner", NLI, 16)


def test_minilm_pairs(minilm_tokenizer):
    [ex] = encode_pairs([{"a": "Acetaminophenx given.", "b": "Pain relief.", "score": 1.0}], minilm_tokenizer,
                        "sts", (), max_length=64)
    sep = ex.input_ids.tolist().index(minilm_tokenizer.sep_token_id)
    assert ex.token_type_ids[:sep + 1].sum() == 0 and (ex.token_type_ids[sep + 1:] == 1).all()
