"""Train words are cut at every gold boundary, the nested entities' too (a span head's candidates are word
spans: an entity starting or ending inside a word could never be one); dev and test words come from the text."""

from __future__ import annotations

from mtclin.corpora.types import Document, Entity
from mtclin.preprocess.tables import ner_rows

LABELS = ("ANAT", "DISO")


def _nested_inside_a_word() -> Document:
    # "cardiomyopathie" (DISO, kept when flattened) holds "cardio" (ANAT, nested: dropped by flattening)
    text = "une cardiomyopathie sévère"
    return Document("d", text, (Entity("T1", "DISO", ((4, 19),)), Entity("T2", "ANAT", ((4, 10),))))


def test_train_words_are_cut_at_nested_entity_boundaries():
    [row] = ner_rows(_nested_inside_a_word(), LABELS, 128, True)
    assert row["words"] == ["une", "cardio", "myopathie", "sévère"]
    starts, ends = set(row["starts"]), set(row["ends"])
    for start, end in zip(row["gold_starts"], row["gold_ends"]):
        assert start in starts and end in ends
    assert row["tags"] == ["O", "B-DISO", "I-DISO", "O"]  # the flattened BIO layer is unchanged in what it tags


def test_dev_and_test_words_come_from_the_text_alone():
    [row] = ner_rows(_nested_inside_a_word(), LABELS, 128, False)
    assert row["words"] == ["une", "cardiomyopathie", "sévère"]
