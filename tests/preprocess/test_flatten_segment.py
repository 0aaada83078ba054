from __future__ import annotations

from mtclin.corpora.types import Entity
from mtclin.preprocess.flatten import flatten, gold_spans
from mtclin.preprocess.segment import bio_tags, segment
from mtclin.preprocess.words import split_at, word_spans


def ent(i: str, typ: str, *frags: tuple[int, int]) -> Entity:
    return Entity(i, typ, tuple(frags))


def test_words_split_letters_digits_punctuation():
    text = "Aspirin 50mg, p.o. déjà-vu"
    assert [text[s:e] for s, e in word_spans(text)] == ["Aspirin", "50", "mg", ",", "p", ".", "o", ".", "déjà", "-",
                                                        "vu"]


def test_split_at_cuts_words_at_gold_boundaries():
    text = "xhypertension"
    assert split_at(word_spans(text), [1, 13]) == [(0, 1), (1, 13)]


def test_flatten_keeps_outermost_and_counts_every_drop():
    entities = [
        ent("T1", "DISO", (0, 16)),  # "cancer du poumon"
        ent("T2", "ANAT", (10, 16)),  # "poumon" nested
        ent("T3", "DISO", (20, 30)),
        ent("T4", "PROC", (20, 30)),  # same span, other type
        ent("T5", "CHEM", (25, 35)),  # crosses T3
        ent("T6", "DISO", (40, 45), (50, 55)),  # discontinuous -> covering span 40-55
    ]
    kept, counts = flatten(entities, ["ANAT", "CHEM", "DISO", "PROC"])
    assert kept == [(0, 16, "DISO"), (20, 30, "DISO"), (40, 55, "DISO")]
    assert counts.dropped["nested"] == {"ANAT": 1}
    assert counts.dropped["same_span"] == {"PROC": 1}
    assert counts.dropped["crossing"] == {"CHEM": 1}
    assert counts.discontinuous == {"DISO": 1}
    assert sum(counts.read.values()) == sum(counts.kept.values()) + sum(
        sum(c.values()) for c in counts.dropped.values())
    # evaluation keeps every gold entity
    assert len(gold_spans(entities)) == 6


def test_flatten_counts_exact_duplicates():
    kept, counts = flatten([ent("T1", "Drug", (0, 4)), ent("T2", "Drug", (0, 4))], ["Drug"])
    assert kept == [(0, 4, "Drug")]
    assert counts.dropped["same_span"] == {"Drug": 1}


def test_bio_tags_adjacent_entities_of_same_type():
    text = "aspirin heparin"
    words = word_spans(text)
    assert bio_tags(words, [(0, 7, "Drug"), (8, 15, "Drug")]) == ["B-Drug", "B-Drug"]
    assert bio_tags(words, [(0, 15, "Drug")]) == ["B-Drug", "I-Drug"]


def test_segments_pack_lines_and_never_cut_an_entity():
    text = "a b c\nd e f\ng h i\nj k l"
    words = word_spans(text)
    spans = [(4, 8, "X")]  # "c\nd": an entity across a line break
    segments = segment(text, words, spans, max_words=4)
    flat = [w for s in segments for w in s.words]
    assert flat == words  # nothing lost, nothing repeated
    assert all(len(s.words) <= 4 for s in segments)
    for s in segments:  # the entity's words are in one segment
        covered = [w for w in s.words if 4 <= w[0] < 8]
        assert covered in ([], [(4, 5), (6, 7)])
    tagged = [t for s in segments for t in s.tags]
    assert tagged.count("B-X") == 1 and tagged.count("I-X") == 1


def test_overlong_line_is_cut_at_allowed_boundaries():
    text = " ".join(f"w{i}" for i in range(10))
    words = word_spans(text)
    segments = segment(text, words, [], max_words=4)
    assert [w for s in segments for w in s.words] == words
    assert max(len(s.words) for s in segments) <= 4
