"""Text-free validation views: one row per processed row, with derived counts and booleans only (pure polars).

Note text is PHI. Great Expectations reports echo the values it sees (partial unexpected lists, Data Docs), so GX
never sees a processed table: it sees the view of it built here, whose columns are numbers and booleans computed
from the table, never a word, a sentence, an id or a raw label. An unknown label in bad data could be anything
(text pasted into the wrong column), so label validity is a boolean computed here against the corpus's own label
list; that keeps one suite file per task kind although label sets differ per corpus.

NER view (one row per segment):
    n_words, n_tags, n_starts, n_ends           list lengths (a null list counts 0); a segment has >= 1 word
    tags_known                                  every tag is in TaskSpec.tag_labels ("O", "B-x", "I-x")
    bio_well_formed                             every I-x follows B-x or I-x of the same type x; a segment never
                                                starts with I-x (segmentation never cuts through an entity)
    offsets_ordered                             0 <= start < end per word and end <= next start; null (not
                                                judged) when starts and ends differ in length
    offsets_match_words                         each word is as long as its (start, end) span says; null when
                                                words, starts and ends differ in length
    n_gold_starts, n_gold_ends, n_gold_types    list lengths of the evaluation target
    gold_types_known                            every gold type is one of the corpus's entity types
    n_gold_ids, n_gold_assertions               list lengths of the gold entities' ids and assertion values
    assertions_known                            every non-null assertion is one of the corpus's values
    n_rel_types, n_rel_arg1, n_rel_arg2         list lengths of the segment's relations
    relation_types_known                        every relation type is one of the corpus's types
Pair view (one row per pair):
    len_a, len_b                                characters of each side once surrounding whitespace is stripped
    label_known (nli)                           the label is one of the corpus's classes
    score (sts)                                 the similarity score itself (a number, not text); NaN -> null
"""

from __future__ import annotations

from typing import Sequence

import polars as pl

from mtclin.corpora.types import TaskKind
from mtclin.tasks import TaskSpec

SOURCE_COLUMNS: dict[TaskKind, tuple[str, ...]] = {
    "ner": ("words", "starts", "ends", "tags", "gold_starts", "gold_ends", "gold_types", "gold_ids",
            "gold_assertions", "rel_types", "rel_arg1", "rel_arg2"),
    "nli": ("a", "b", "label"),
    "sts": ("a", "b", "score"),
}
VIEW_COLUMNS: dict[TaskKind, tuple[str, ...]] = {
    "ner": ("n_words", "n_tags", "n_starts", "n_ends", "tags_known", "bio_well_formed", "offsets_ordered",
            "offsets_match_words", "n_gold_starts", "n_gold_ends", "n_gold_types", "gold_types_known",
            "n_gold_ids", "n_gold_assertions", "assertions_known", "n_rel_types", "n_rel_arg1", "n_rel_arg2",
            "relation_types_known"),
    "nli": ("len_a", "len_b", "label_known"),
    "sts": ("len_a", "len_b", "score"),
}


def missing_source_columns(kind: TaskKind, columns: Sequence[str]) -> list[str]:
    """The columns a ``kind`` view needs that a table lacks (names only)."""
    return [c for c in SOURCE_COLUMNS[kind] if c not in columns]


def validation_view(table: pl.DataFrame, spec: TaskSpec) -> pl.DataFrame:
    """The text-free view of a processed table of ``spec``'s kind: columns VIEW_COLUMNS[spec.kind], same rows.
    The table must hold SOURCE_COLUMNS[spec.kind] (see ``missing_source_columns``)."""
    if spec.kind == "ner":
        view = _ner_view(table, spec)
    else:
        view = _pair_view(table, spec)
    # by construction: whatever the branches compute, only the declared text-free columns leave this function
    return view.select(VIEW_COLUMNS[spec.kind])


def _all_in(column: str, allowed: Sequence[str]) -> pl.Expr:
    """Every element of a list column is in ``allowed`` (a null element is not); null for a null list."""
    return pl.col(column).list.eval(pl.element().is_in(list(allowed)).fill_null(False)).list.all()


def _bio_well_formed() -> pl.Expr:
    tag, prev = pl.element(), pl.element().shift(1)
    continues = (prev.str.starts_with("B-") | prev.str.starts_with("I-")) & (prev.str.slice(2) == tag.str.slice(2))
    ok = ~tag.str.starts_with("I-") | continues
    return pl.col("tags").list.eval(ok.fill_null(False)).list.all()


def _offset_checks(table: pl.DataFrame) -> pl.DataFrame:
    """offsets_ordered and offsets_match_words per row (null where the lists' lengths differ)."""
    lists = table.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        pl.col("starts").fill_null([]).alias("s"),
        pl.col("ends").fill_null([]).alias("e"),
        pl.col("words").fill_null([]).alias("w"),
    )
    same_se = pl.col("s").list.len() == pl.col("e").list.len()
    same_wse = same_se & (pl.col("w").list.len() == pl.col("s").list.len())
    # (rows with equal-length starts/ends, exploded to one word each) -> per-row all()
    ordered = (
        lists.filter(same_se).select("row", "s", "e").explode(["s", "e"], empty_as_null=False)
        .with_columns(ok=(pl.col("s") >= 0) & (pl.col("s") < pl.col("e"))
                      & (pl.col("e") <= pl.col("s").shift(-1).over("row")).fill_null(True))
        .group_by("row").agg(offsets_ordered=pl.col("ok").fill_null(False).all())
    )
    matching = (
        lists.filter(same_wse).explode(["s", "e", "w"], empty_as_null=False)
        .with_columns(ok=pl.col("w").str.len_chars().cast(pl.Int64) == (pl.col("e") - pl.col("s")).cast(pl.Int64))
        .group_by("row").agg(offsets_match_words=pl.col("ok").fill_null(False).all())
    )
    checks = lists.select("row").join(ordered, on="row", how="left").join(matching, on="row", how="left")
    rows_with_lists = lists.select("row", same_se.alias("se"), same_wse.alias("wse"))
    # a row whose lists are all empty has no exploded element: judged well-formed (its emptiness is n_words' job)
    return checks.join(rows_with_lists, on="row").sort("row").select(
        pl.when(pl.col("se")).then(pl.col("offsets_ordered").fill_null(True)).alias("offsets_ordered"),
        pl.when(pl.col("wse")).then(pl.col("offsets_match_words").fill_null(True)).alias("offsets_match_words"),
    )


def _link_values(corpus: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The corpus's assertion values and relation types (none for a corpus without them)."""
    from mtclin.corpora.registry import corpus_info

    try:
        info = corpus_info(corpus)
    except KeyError:  # a table validated under a name no declaration knows: no value can be known
        return (), ()
    return info.assertions, info.relations


def _ner_view(table: pl.DataFrame, spec: TaskSpec) -> pl.DataFrame:
    def n(column: str) -> pl.Expr:
        return pl.col(column).list.len().fill_null(0).cast(pl.Int64).alias(f"n_{column}")

    values, types = _link_values(spec.name)
    # a null assertion (an entity without one) is fine; a value outside the corpus's list is not
    assertion_ok = pl.col("gold_assertions").list.eval(
        (pl.element().is_null() | pl.element().is_in(list(values))).fill_null(False)).list.all()

    counts = table.select(
        n("words"), n("tags"), n("starts"), n("ends"),
        _all_in("tags", spec.tag_labels).alias("tags_known"),
        _bio_well_formed().alias("bio_well_formed"),
        n("gold_starts"), n("gold_ends"), n("gold_types"),
        _all_in("gold_types", spec.labels).alias("gold_types_known"),
        n("gold_ids"), n("gold_assertions"), assertion_ok.alias("assertions_known"),
        n("rel_types"), n("rel_arg1"), n("rel_arg2"), _all_in("rel_types", types).alias("relation_types_known"),
    )
    return pl.concat([counts, _offset_checks(table)], how="horizontal")


def _pair_view(table: pl.DataFrame, spec: TaskSpec) -> pl.DataFrame:
    def length(column: str) -> pl.Expr:
        return pl.col(column).str.strip_chars().str.len_chars().fill_null(0).cast(pl.Int64).alias(f"len_{column}")

    if spec.kind == "nli":
        label = pl.col("label").cast(pl.String, strict=False)
        last = label.is_in(list(spec.labels)).fill_null(False).alias("label_known")
    else:
        last = pl.col("score").cast(pl.Float64, strict=False).fill_nan(None).alias("score")
    return table.select(length("a"), length("b"), last)
