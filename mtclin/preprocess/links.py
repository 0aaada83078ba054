"""A document's assertions and relations as the NER tables carry them: aligned to the gold entity columns.

Gold entities in the tables are deduplicated by ``(start, end, type)`` (``flatten.gold_spans``: what evaluation
scores), so each kept span needs one id: the first entity of the span in the readers' order (``sort_entities``).
An assertion of any duplicate goes to that span (the first one read wins when they disagree), a relation's
arguments are renamed to it (a relation listed twice through duplicates counts once).

Segmentation may not cut between the arguments of a relation lying at most ``keep_within`` characters apart
(:func:`relation_ranges` gives their covering ranges to ``segment``): those stay in one segment, so a relation
head sees both arguments in one encoder window. A relation whose arguments lie farther apart may be cut; it is
kept in the segment of its first argument (in text order) with its other argument's id pointing into another
segment, so it stays in the evaluation target as lost recall (:func:`crossing_relations` counts them).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from mtclin.corpora.types import Document, Entity, sort_entities

Key = tuple[int, int, str]  # (start, end, type) of a gold span


def canonical_ids(entities: Sequence[Entity]) -> tuple[dict[Key, str], dict[str, str]]:
    """``(span -> its id, every entity id -> the id of its span)``."""
    by_span: dict[Key, str] = {}
    renamed: dict[str, str] = {}
    for entity in sort_entities(entities):
        key = (entity.start, entity.end, entity.type)
        renamed[entity.id] = by_span.setdefault(key, entity.id)
    return by_span, renamed


def span_assertions(doc: Document, renamed: Mapping[str, str]) -> dict[str, str]:
    """The assertion value per span id (the first one read where duplicates disagree)."""
    out: dict[str, str] = {}
    for assertion in doc.assertions:
        out.setdefault(renamed[assertion.entity], assertion.value)
    return out


def span_relations(doc: Document, renamed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(type, arg1 id, arg2 id)`` per distinct relation between spans, in the document's (canonical) order."""
    return list(dict.fromkeys((r.type, renamed[r.arg1], renamed[r.arg2]) for r in doc.relations))


def relation_ranges(doc: Document, keep_within: int) -> list[tuple[int, int]]:
    """The covering character range of every relation whose arguments lie at most ``keep_within`` characters
    apart (the gap from the end of the first to the start of the second): segmentation never cuts inside one."""
    by_id = {e.id: e for e in doc.entities}
    out = []
    for relation in doc.relations:
        a, b = by_id[relation.arg1], by_id[relation.arg2]
        lo, hi = min(a.start, b.start), max(a.end, b.end)
        first, second = sorted((a, b), key=lambda e: (e.start, e.end))
        if max(0, second.start - first.end) <= keep_within:
            out.append((lo, hi))
    return sorted(out)


def crossing_relations(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Over a split's NER rows: how many relations there are and how many have their arguments in two segments."""
    segment_of: dict[tuple[str, str], int] = {}
    relations = []
    for row in rows:
        for entity_id in row.get("gold_ids") or ():
            segment_of[(row["doc_id"], entity_id)] = row["segment"]
        relations.extend((row["doc_id"], a, b) for a, b in zip(row.get("rel_arg1") or (), row.get("rel_arg2") or ()))
    crossing = sum(segment_of.get((doc, a)) != segment_of.get((doc, b)) for doc, a, b in relations)
    return {"relations": len(relations), "crossing_segments": crossing}
