"""From link heads' per-candidate scores of every window back to one decision per entity (pair) of an example.

An entity (a pair) held by two overlapping windows is scored in both; it is decided by the window where it is
farthest from the window's edge (``LinkItem.edge``; ties: the earlier window), as NER decoding decides each word.
Scores per window come from :func:`link_scores`: the most likely class and its probability per candidate.
"""

from __future__ import annotations

from typing import Iterable, Sequence, TypeVar

import numpy as np
import torch

from mtclin.data.encode_links import LinkEntity, LinkItem
from mtclin.data.word_boundaries import WordBoundaries

# per window, per candidate: (class index, its probability); a relation's class 0 is none
LinkScores = tuple[np.ndarray, np.ndarray]
Decision = tuple[int, float]  # (class index, probability)
Key = TypeVar("Key")
Value = TypeVar("Value")


def link_scores(logits: torch.Tensor, counts: Sequence[int]) -> list[LinkScores]:
    """(B, N, C) logits of a batch -> per row its first ``counts[row]`` candidates' (class, probability)."""
    probs, classes = logits.float().softmax(-1).max(-1)  # (B, N)
    probs, classes = probs.cpu().numpy(), classes.cpu().numpy()  # one copy per batch, not per row
    return [(classes[row, :n], probs[row, :n]) for row, n in enumerate(counts)]


def _farthest_from_edge(candidates: Iterable[tuple[Key, int, Value]]) -> dict[Key, Value]:
    """``(key, distance to the window's edge, value)`` of every window -> per key the value of the window where it is
    farthest from the edge (ties: the earlier one)."""
    best: dict[Key, tuple[int, Value]] = {}
    for key, edge, value in candidates:
        if key not in best or edge > best[key][0]:
            best[key] = (edge, value)
    return {key: value for key, (_, value) in best.items()}


def decide_entities(items: Sequence[LinkItem], scores: Sequence[LinkScores]
                    ) -> dict[tuple[int, str], tuple[LinkEntity, Decision]]:
    """Assertion: (example, entity key) -> (entity, its decision)."""
    return _farthest_from_edge(
        ((item.example_index, entity.key), int(item.edge[k]), (entity, (int(classes[k]), float(probs[k]))))
        for item, (classes, probs) in zip(items, scores) for k, entity in enumerate(item.entities))


def decide_pairs(items: Sequence[LinkItem], scores: Sequence[LinkScores]
                 ) -> dict[tuple[int, str, str], tuple[LinkEntity, LinkEntity, Decision]]:
    """Relation: (example, arg1 key, arg2 key) -> (arg1, arg2, decision); class 0 (none) included."""
    return _farthest_from_edge(
        ((item.example_index, item.entities[i].key, item.entities[j].key), int(item.edge[k]),
         (item.entities[i], item.entities[j], (int(classes[k]), float(probs[k]))))
        for item, (classes, probs) in zip(items, scores)
        for k, (i, j) in enumerate(zip(item.pair_first.tolist(), item.pair_second.tolist())))


def entities_from_spans(spans: Sequence[tuple[int, int, str, float]], starts: Sequence[int], ends: Sequence[int]
                        ) -> list[LinkEntity]:
    """Predicted entities ``(start, end, type, score)`` of one example (on its words, as decoding gives them) as
    link entities keyed by their position in ``spans``."""
    boundaries = WordBoundaries(starts, ends)
    out = []
    for k, (start, end, typ, _) in enumerate(spans):
        words = boundaries.words(start, end)
        if words is not None:
            out.append(LinkEntity(*words, typ, int(start), int(end), str(k)))
    return out
