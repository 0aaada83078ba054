"""Counts of a split's assertions and relations, and how far apart relation arguments lie.

The distances are what a relation head's candidate-pair limit is chosen from: a limit of N characters (or lines)
keeps the share ``share_within_chars[N]`` of the gold relations, the rest is lost recall. Between two arguments:

- ``chars``: characters between them (the gap from the end of the first to the start of the second in the text;
  0 when they touch or overlap; a discontinuous entity counts from its first start to its last end);
- ``lines``: line breaks in that gap (0: both arguments share a line; i2b2-2010 notes have one sentence per line).

Only counts and offsets-derived numbers: never note text.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Sequence

from mtclin.corpora.types import Document, Entity

CHAR_LIMITS = (0, 25, 50, 100, 200, 500, 1000, 2000)  # candidate limits worth pricing, in characters
LINE_LIMITS = (0, 1, 2, 3, 5, 10)
PERCENTILES = (50, 90, 95, 99)


def assertion_stats(documents: Sequence[Document], values: Sequence[str]) -> dict[str, Any]:
    """How many assertions, per value (every declared value, zeros included, so splits compare key by key)."""
    counts = Counter(a.value for doc in documents for a in doc.assertions)
    return {"read": sum(counts.values()), "per_value": {value: counts[value] for value in sorted(values)}}


def argument_distance(doc: Document, arg1: Entity, arg2: Entity) -> tuple[int, int]:
    """(characters, line breaks) between two entities of ``doc`` (see the module docstring)."""
    first, second = sorted((arg1, arg2), key=lambda e: (e.start, e.end))
    gap_start, gap_end = first.end, max(first.end, second.start)
    return gap_end - gap_start, doc.text.count("\n", gap_start, gap_end)


def _percentiles(values: list[int]) -> dict[str, int | None]:
    """Nearest-rank percentiles and the max (None for no values)."""
    ordered = sorted(values)
    out: dict[str, int | None] = {}
    for p in PERCENTILES:
        out[f"p{p}"] = ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else None
    out["max"] = ordered[-1] if ordered else None
    return out


def _share_within(values: list[int], limits: Sequence[int]) -> dict[str, float | None]:
    return {str(limit): (sum(v <= limit for v in values) / len(values) if values else None) for limit in limits}


def _distances(chars: list[int], lines: list[int]) -> dict[str, Any]:
    return {
        "chars": _percentiles(chars),
        "lines": _percentiles(lines),
        "same_line_share": sum(n == 0 for n in lines) / len(lines) if lines else None,
        "share_within_chars": _share_within(chars, CHAR_LIMITS),
        "share_within_lines": _share_within(lines, LINE_LIMITS),
    }


def relation_stats(documents: Sequence[Document], types: Sequence[str]) -> dict[str, Any]:
    """How many relations, per type (every declared type, zeros included), and their argument distances overall
    and per type."""
    counts: Counter[str] = Counter()
    chars: dict[str, list[int]] = {}
    lines: dict[str, list[int]] = {}
    for doc in documents:
        by_id = {e.id: e for e in doc.entities}
        for relation in doc.relations:
            counts[relation.type] += 1
            n_chars, n_lines = argument_distance(doc, by_id[relation.arg1], by_id[relation.arg2])
            chars.setdefault(relation.type, []).append(n_chars)
            lines.setdefault(relation.type, []).append(n_lines)
    every = sorted(set(types) | set(counts))
    return {
        "read": sum(counts.values()),
        "per_type": {kind: counts[kind] for kind in every},
        "argument_distance": _distances([n for k in every for n in chars.get(k, [])],
                                        [n for k in every for n in lines.get(k, [])]),
        "argument_distance_per_type": {kind: _distances(chars.get(kind, []), lines.get(kind, [])) for kind in every},
    }


def describe(split_stats: dict[str, Any]) -> list[str]:
    """Human-readable lines for ``mtclin inspect`` (the split's assertion and relation stats, where present)."""
    out = []
    if "assertions" in split_stats:
        a = split_stats["assertions"]
        out.append(f"  assertions={a['read']}: " + ", ".join(f"{k}={v}" for k, v in a["per_value"].items()))
    if "relations" in split_stats:
        r = split_stats["relations"]
        d = r["argument_distance"]
        out.append(f"  relations={r['read']}: " + ", ".join(f"{k}={v}" for k, v in r["per_type"].items()))
        if r["read"]:
            within = ", ".join(f"<={k}: {v:.1%}" for k, v in d["share_within_chars"].items())
            out.append(f"  relation argument distance: same line {d['same_line_share']:.1%}; chars p50="
                       f"{d['chars']['p50']} p95={d['chars']['p95']} max={d['chars']['max']}; lines p95="
                       f"{d['lines']['p95']} max={d['lines']['max']}; share within chars {within}")
    return out
