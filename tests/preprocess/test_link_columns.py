"""The NER tables carry assertions and relations aligned to the gold entities; segmentation keeps relation
arguments together up to ``relation_chars``; what it cuts is counted."""

from __future__ import annotations

from mtclin.corpora.types import Assertion, Document, Entity, Relation
from mtclin.preprocess.links import crossing_relations
from mtclin.preprocess.tables import ner_rows
from tests.link_toys import i2b2_docs

LABELS = ("problem", "test", "treatment")


def test_columns_are_aligned_with_the_gold_entities():
    [row] = ner_rows(i2b2_docs()[3], LABELS, 128, False)
    assert row["gold_types"] == ["problem", "test", "problem"]
    assert row["gold_ids"] == ["T1", "T2", "T3"] and row["gold_assertions"] == ["possible", None, "present"]
    assert (row["rel_types"], row["rel_arg1"], row["rel_arg2"]) == (["TeRP"], ["T2"], ["T3"])


def test_duplicate_spans_share_one_id_and_their_relations():
    text = "aspirin for pain"
    doc = Document("d", text, (Entity("T1", "treatment", ((0, 7),)), Entity("T2", "problem", ((12, 16),)),
                               Entity("T3", "problem", ((12, 16),))),
                   (Assertion("T3", "absent"),),
                   (Relation("R1", "TrAP", "T1", "T2"), Relation("R2", "TrAP", "T1", "T3")))
    [row] = ner_rows(doc, LABELS, 128, False)
    assert row["gold_ids"] == ["T1", "T2"] and row["gold_assertions"] == [None, "absent"]
    assert row["rel_arg2"] == ["T2"]  # the relation through the duplicate is the same relation


def _far_apart() -> Document:
    # one line of 12 words; a relation from word 1 to word 10 (0-based), a segment limit of 4 words
    words = [c * 2 for c in "abcdefghijkl"]
    text = " ".join(words)
    start = {i: sum(len(w) + 1 for w in words[:i]) for i in range(12)}
    entities = (Entity("T1", "treatment", ((start[1], start[1] + 2),)),
                Entity("T2", "problem", ((start[10], start[10] + 2),)))
    return Document("d", text, entities, (), (Relation("R1", "TrAP", "T1", "T2"),))


def test_relation_arguments_stay_in_one_segment_within_the_limit():
    kept = ner_rows(_far_apart(), LABELS, 4, False, relation_chars=500)
    assert crossing_relations(kept) == {"relations": 1, "crossing_segments": 0}
    assert [len(r["words"]) for r in kept] == [1, 10, 1]  # no cut between words 1 and 10: one longer segment


def test_beyond_the_limit_a_relation_may_be_cut_and_is_counted():
    cut = ner_rows(_far_apart(), LABELS, 4, False, relation_chars=5)
    assert crossing_relations(cut) == {"relations": 1, "crossing_segments": 1}
    first = next(r for r in cut if r["rel_types"])  # kept with its first argument, pointing into another row
    assert first["rel_arg1"] == ["T1"] and "T2" not in first["gold_ids"]
