"""Validation views: golden rows for each derived column, and no text column ever in a view."""

from __future__ import annotations

import polars as pl
import pytest

from mtclin.preprocess.tables import NER_SCHEMA, NLI_SCHEMA, STS_SCHEMA
from mtclin.tasks import TaskSpec
from mtclin.validation.views import VIEW_COLUMNS, missing_source_columns, validation_view

NER = TaskSpec("toy-ner", "ner", ("problem", "test"))
NLI = TaskSpec("toy-nli", "nli", ("true", "false"))
STS = TaskSpec("toy-sts", "sts", ())


def ner_row(words: list[str] | None, tags: list[str] | None, starts: list[int] | None = None,
            ends: list[int] | None = None, gold_types: tuple[str, ...] = ()) -> dict:
    """A segment whose words sit one space apart from offset 0 unless starts/ends are given."""
    if words is not None and starts is None:
        starts, pos = [], 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        ends = [s + len(w) for s, w in zip(starts, words)]
    return {"doc_id": "d", "segment": 0, "words": words, "starts": starts, "ends": ends, "tags": tags,
            "gold_starts": [0] * len(gold_types), "gold_ends": [1] * len(gold_types), "gold_types": list(gold_types)}


def ner_view(*rows: dict) -> list[dict]:
    return validation_view(pl.DataFrame(list(rows), schema=NER_SCHEMA), NER).to_dicts()


@pytest.mark.parametrize(("tags", "well_formed"), [
    (["O", "B-test", "I-test", "I-test", "O"], True),
    (["B-test", "B-test", "B-problem", "I-problem"], True),  # adjacent entities: a new B- each
    (["O", "I-test", "O", "O", "O"], False),  # I-x after O
    (["B-problem", "I-test", "O", "O"], False),  # I-x after B-y of another type
    (["B-test", "I-test", "I-problem", "O"], False),  # I-x after I-y of another type
    (["I-test", "I-test", "O"], False),  # a segment never starts inside an entity
    ([], True),
])
def test_bio_well_formed_means_every_i_continues_its_own_type(tags: list[str], well_formed: bool) -> None:
    words = [f"w{i}" for i in range(len(tags))]
    assert ner_view(ner_row(words, tags))[0]["bio_well_formed"] is well_formed


def test_ner_view_counts_and_booleans() -> None:
    rows = ner_view(
        ner_row(["Pain", "in", "chest"], ["B-problem", "O", "O"], gold_types=("problem",)),
        ner_row(["a", "b"], ["O", "B-CANARY"]),  # unknown tag
        ner_row(["a", "b", "c"], ["O", "O"]),  # one tag short
        ner_row(["ab", "c"], ["O", "O"], starts=[0, 1], ends=[2, 2]),  # overlapping words
        ner_row(["ab", "c"], ["O", "O"], starts=[0, 4], ends=[3, 5]),  # word shorter than its span
        ner_row(["ab", "c"], ["O", "O"], starts=[0, 4], ends=[2]),  # one end missing: offsets not judged
        ner_row([], [], starts=[], ends=[]),  # empty segment
        ner_row(None, None),  # null lists count as empty
        ner_row(["a"], ["O"], gold_types=("drug",)),  # gold type outside the corpus's types
    )
    assert [r["n_words"] for r in rows] == [3, 2, 3, 2, 2, 2, 0, 0, 1]
    assert [r["n_tags"] for r in rows] == [3, 2, 2, 2, 2, 2, 0, 0, 1]
    assert [r["n_ends"] for r in rows] == [3, 2, 3, 2, 2, 1, 0, 0, 1]
    assert [r["tags_known"] for r in rows] == [True, False, True, True, True, True, True, None, True]
    assert [r["offsets_ordered"] for r in rows] == [True, True, True, False, True, None, True, True, True]
    assert [r["offsets_match_words"] for r in rows] == [True, True, True, True, False, None, True, True, True]
    assert [r["n_gold_types"] for r in rows] == [1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [r["gold_types_known"] for r in rows][0] is True and rows[-1]["gold_types_known"] is False


def test_pair_views_hold_lengths_and_label_validity_not_text() -> None:
    nli = pl.DataFrame([
        {"id": "1", "a": "Chest pain?", "b": "  ", "label": "true"},
        {"id": "2", "a": "x", "b": "y", "label": "Patient John Doe, MRN 123"},  # text in the label column
        {"id": "3", "a": None, "b": "y", "label": None},
    ], schema=NLI_SCHEMA)
    view = validation_view(nli, NLI)
    assert view.columns == list(VIEW_COLUMNS["nli"])
    assert view.rows() == [(11, 0, True), (1, 1, False), (0, 1, False)]

    sts = pl.DataFrame([
        {"id": "1", "a": "x", "b": "y", "score": 4.5},
        {"id": "2", "a": "x", "b": "", "score": float("nan")},
        {"id": "3", "a": "x", "b": "y", "score": None},
    ], schema=STS_SCHEMA)
    assert validation_view(sts, STS).rows() == [(1, 1, 4.5), (1, 0, None), (1, 1, None)]


@pytest.mark.parametrize("spec", [NER, NLI, STS], ids=lambda s: s.kind)
def test_a_view_has_only_its_declared_columns_and_no_string_column(spec: TaskSpec) -> None:
    schema = {"ner": NER_SCHEMA, "nli": NLI_SCHEMA, "sts": STS_SCHEMA}[spec.kind]
    view = validation_view(pl.DataFrame([], schema=schema), spec)
    assert view.columns == list(VIEW_COLUMNS[spec.kind])
    assert all(dtype.is_numeric() or dtype == pl.Boolean for dtype in view.dtypes)


def test_missing_source_columns_are_named() -> None:
    assert missing_source_columns("ner", ["words", "starts", "ends", "gold_starts", "gold_ends"]) == [
        "tags", "gold_types", "gold_ids", "gold_assertions", "rel_types", "rel_arg1", "rel_arg2"]
    assert missing_source_columns("sts", ["id", "a", "b", "score"]) == []
