"""Assertion and relation data: the entities (and candidate entity pairs) of each NER window, and their labels.

The windows are the NER encoder's (``encode_ner``: same subwords, same overlapping windows), so at inference the
NER heads' window hidden states serve the link heads too. An entity is a word span ``(first word, last word)`` of
its example; it is represented in a window that contains it whole (``SpanRepresentation``: the first subword of its
first and of its last word, and its width). Gold entities come from a processed row (``gold_*`` columns) at
training and evaluation, predicted ones from the source NER task at inference: :func:`link_items` serves both.

- assertion: every entity of the task's ``entity_types`` in the window is a candidate; its label is its assertion
  value's index, IGNORE_INDEX where it has none (never trained on, never scored).
- relation: ordered pairs ``(arg1, arg2)`` of entities in the window whose types are one of the task's
  ``type_pairs`` (those of the train gold relations; i2b2-2010 treatment-problem, ...; n2c2-2018 Strength-Drug,
  ...), at most ``max_pair_chars`` characters apart (gap between them); two entities of the same type pair up in
  text order only (i2b2-2010 PIP: the first problem is arg1). Label: 1 + the type's index, 0 = none.
  A pair's distance feature is its word gap in buckets, signed by which argument comes first.

An entity (pair) lying in two overlapping windows is a candidate in both; evaluation and inference decide it in the
window where it is farthest from the edge (``edge``), as NER decoding does per word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.data import IGNORE_INDEX
from mtclin.data.encode_ner import NerWindow, encode_ner
from mtclin.data.word_boundaries import WordBoundaries
from mtclin.tasks import TaskSpec

# word gap -> bucket: 0, 1, 2, 3, 4, 5-7, 8-15, 16-31, 32+ words; arg1 after arg2 adds len(GAP_BUCKETS) + 1
GAP_BUCKETS = (1, 2, 3, 4, 5, 8, 16, 32)
DISTANCE_BUCKETS = 2 * (len(GAP_BUCKETS) + 1)


@dataclass(frozen=True)
class LinkEntity:
    """An entity of one example: word span, type, character offsets, ``key`` (its id: gold id, or the index in
    the source task's predictions) and, for assertion training, its assertion value (None: none)."""

    first_word: int
    last_word: int
    type: str
    start: int
    end: int
    key: str
    assertion: str | None = None


@dataclass(eq=False)
class LinkItem:
    """One window with its candidates. Arrays are int64: entities (E,), pairs (P,) (relation tasks only).
    ``labels``: (E,) assertion values or (P,) relation types, None when unlabelled. ``edge``: per candidate, its
    distance from the window's edge in tokens (the window that decides it: the largest)."""

    window: NerWindow
    entities: list[LinkEntity]
    entity_starts: np.ndarray
    entity_ends: np.ndarray
    entity_widths: np.ndarray
    pair_first: np.ndarray
    pair_second: np.ndarray
    pair_buckets: np.ndarray
    labels: np.ndarray | None
    edge: np.ndarray

    @property
    def input_ids(self) -> np.ndarray:
        return self.window.input_ids

    @property
    def example_index(self) -> int:
        return self.window.example_index

    @property
    def candidates(self) -> int:
        """Entities (assertion) or pairs (relation) this window classifies."""
        return len(self.edge)

    def __len__(self) -> int:
        return len(self.window)


def row_entities(row: Mapping[str, Any]) -> tuple[list[LinkEntity], int]:
    """A processed row's gold entities on its word boundaries, and how many are not (they cannot be candidates)."""
    boundaries = WordBoundaries(row["starts"], row["ends"])
    ids = row.get("gold_ids") or [str(k) for k in range(len(row["gold_starts"]))]
    assertions = row.get("gold_assertions") or [None] * len(ids)
    out, unaligned = [], 0
    for start, end, typ, key, value in zip(row["gold_starts"], row["gold_ends"], row["gold_types"], ids, assertions):
        words = boundaries.words(start, end)
        if words is None:
            unaligned += 1
            continue
        out.append(LinkEntity(*words, typ, int(start), int(end), key, value))
    return out, unaligned


def row_relations(row: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """A row's gold relations: (arg1 id, arg2 id) -> type (the first type listed where a pair has two)."""
    out: dict[tuple[str, str], str] = {}
    for typ, a, b in zip(row.get("rel_types") or (), row.get("rel_arg1") or (), row.get("rel_arg2") or ()):
        out.setdefault((a, b), typ)
    return out


def gap_bucket(first: LinkEntity, second: LinkEntity) -> int:
    """The distance feature of the pair (arg1=first, arg2=second)."""
    if first.first_word <= second.first_word:
        gap, offset = max(0, second.first_word - first.last_word - 1), 0
    else:
        gap, offset = max(0, first.first_word - second.last_word - 1), len(GAP_BUCKETS) + 1
    return offset + int(np.searchsorted(GAP_BUCKETS, gap, side="right"))


def char_gap(a: LinkEntity, b: LinkEntity) -> int:
    x, y = sorted((a, b), key=lambda e: (e.start, e.end))
    return max(0, y.start - x.end)


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def link_items(windows: Sequence[NerWindow], entities: Sequence[Sequence[LinkEntity]], spec: TaskSpec,
               gold: Sequence[Mapping[tuple[str, str], str]] | None = None, labelled: bool = False) -> list[LinkItem]:
    """Per window: the entities of its example (``entities[window.example_index]``) it holds whole, and the
    task's candidates among them. ``labelled``: attach labels (assertion values of the entities; relation types
    from ``gold[example]``, pairs of entity keys)."""
    width_cap = spec.head_options["max_width"] - 1
    allowed = set(spec.type_pairs)
    types = {t: k for k, t in enumerate(spec.labels)}
    out = []
    for window in windows:
        pos = np.flatnonzero(window.word_index >= 0)
        position = dict(zip(window.word_index[pos].tolist(), pos.tolist()))  # word -> its first subword
        T = len(window)
        held = [e for e in entities[window.example_index] if e.first_word in position and e.last_word in position]
        if spec.kind == "assertion":
            held = [e for e in held if e.type in spec.entity_types]
        starts = np.array([position[e.first_word] for e in held], dtype=np.int64)
        ends = np.array([position[e.last_word] for e in held], dtype=np.int64)
        widths = np.array([min(e.last_word - e.first_word, width_cap) for e in held], dtype=np.int64)
        entity_edge = np.minimum(starts, T - 1 - ends) if len(held) else _empty()
        first, second, buckets, labels = _empty(), _empty(), _empty(), None
        if spec.kind == "assertion":
            edge = entity_edge
            if labelled:
                labels = np.array([types.get(e.assertion, IGNORE_INDEX) if e.assertion is not None else IGNORE_INDEX
                                   for e in held], dtype=np.int64)
        else:
            limit = spec.max_pair_chars
            pairs = [(i, j) for i, a in enumerate(held) for j, b in enumerate(held)
                     if i != j and (a.type, b.type) in allowed
                     and (a.type != b.type or (a.start, a.end) < (b.start, b.end))
                     and (limit is None or char_gap(a, b) <= limit)]
            first = np.array([p[0] for p in pairs], dtype=np.int64)
            second = np.array([p[1] for p in pairs], dtype=np.int64)
            buckets = np.array([gap_bucket(held[i], held[j]) for i, j in pairs], dtype=np.int64)
            edge = np.minimum(entity_edge[first], entity_edge[second]) if pairs else _empty()
            if labelled:
                relations = gold[window.example_index] if gold is not None else {}
                labels = np.array([types[relations[(held[i].key, held[j].key)]] + 1
                                   if relations.get((held[i].key, held[j].key)) in types else 0
                                   for i, j in pairs], dtype=np.int64)
        out.append(LinkItem(window, held, starts, ends, widths, first, second, buckets, labels, edge))
    return out


def encode_links(rows: Sequence[Mapping[str, Any]], tokenizer: Any, spec: TaskSpec, max_length: int, stride: int,
                 labelled: bool = True) -> list[LinkItem]:
    """The NER windows of the rows' words with their gold entities' candidates (labelled unless ``labelled`` is
    False). Windows come in row order; ``example_index`` is the row's position in ``rows``."""
    windows = encode_ner(rows, tokenizer, None, max_length, stride)
    entities = [row_entities(row)[0] for row in rows]
    gold = [row_relations(row) for row in rows] if spec.kind == "relation" else None
    return link_items(windows, entities, spec, gold, labelled)


def type_pairs(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The (arg1 type, arg2 type) pairs of the rows' gold relations (both arguments among the rows' entities),
    sorted: a relation task's candidate types."""
    types = {(row["doc_id"], key): typ for row in rows
             for key, typ in zip(row.get("gold_ids") or (), row["gold_types"])}
    found = {(types[(row["doc_id"], a)], types[(row["doc_id"], b)]) for row in rows
             for a, b in zip(row.get("rel_arg1") or (), row.get("rel_arg2") or ())
             if (row["doc_id"], a) in types and (row["doc_id"], b) in types}
    return tuple(sorted(found))
