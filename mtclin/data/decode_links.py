"""From link heads' per-candidate scores of every window back to one decision per entity (pair) of an example.

An entity (a pair) held by two overlapping windows is scored in both; it is decided by the window where it is
farthest from the window's edge (``LinkItem.edge``; ties: the earlier window), as NER decoding decides each word.
Scores per window come from :func:`link_scores`: the most likely class and its probability per candidate.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from mtclin.data.encode_links import LinkEntity, LinkItem

# per window, per candidate: (class index, its probability); a relation's class 0 is none
LinkScores = tuple[np.ndarray, np.ndarray]
Decision = tuple[int, float]  # (class index, probability)


def link_scores(logits: torch.Tensor, counts: Sequence[int]) -> list[LinkScores]:
    """(B, N, C) logits of a batch -> per row its first ``counts[row]`` candidates' (class, probability)."""
    probs, classes = logits.float().softmax(-1).max(-1)  # (B, N)
    probs, classes = probs.cpu().numpy(), classes.cpu().numpy()  # one copy per batch, not per row
    return [(classes[row, :n], probs[row, :n]) for row, n in enumerate(counts)]


def decide_entities(items: Sequence[LinkItem], scores: Sequence[LinkScores]
                    ) -> dict[tuple[int, str], tuple[LinkEntity, Decision]]:
    """Assertion: (example, entity key) -> (entity, its decision)."""
    best: dict[tuple[int, str], tuple[int, LinkEntity, Decision]] = {}
    for item, (classes, probs) in zip(items, scores):
        for k, entity in enumerate(item.entities):
            key = (item.example_index, entity.key)
            edge = int(item.edge[k])
            if key not in best or edge > best[key][0]:
                best[key] = (edge, entity, (int(classes[k]), float(probs[k])))
    return {key: (entity, decision) for key, (_, entity, decision) in best.items()}


def decide_pairs(items: Sequence[LinkItem], scores: Sequence[LinkScores]
                 ) -> dict[tuple[int, str, str], tuple[LinkEntity, LinkEntity, Decision]]:
    """Relation: (example, arg1 key, arg2 key) -> (arg1, arg2, decision); class 0 (none) included."""
    best: dict[tuple[int, str, str], tuple[int, LinkEntity, LinkEntity, Decision]] = {}
    for item, (classes, probs) in zip(items, scores):
        for k, (i, j) in enumerate(zip(item.pair_first.tolist(), item.pair_second.tolist())):
            a, b = item.entities[i], item.entities[j]
            key = (item.example_index, a.key, b.key)
            edge = int(item.edge[k])
            if key not in best or edge > best[key][0]:
                best[key] = (edge, a, b, (int(classes[k]), float(probs[k])))
    return {key: (a, b, decision) for key, (_, a, b, decision) in best.items()}


def entities_from_spans(spans: Sequence[tuple[int, int, str, float]], starts: Sequence[int], ends: Sequence[int]
                        ) -> list[LinkEntity]:
    """Predicted entities ``(start, end, type, score)`` of one example (on its words, as decoding gives them) as
    link entities keyed by their position in ``spans``."""
    first = {int(s): i for i, s in enumerate(starts)}
    last = {int(e): i for i, e in enumerate(ends)}
    out = []
    for k, (start, end, typ, _) in enumerate(spans):
        i, j = first.get(int(start)), last.get(int(end))
        if i is not None and j is not None and i <= j:
            out.append(LinkEntity(i, j, typ, int(start), int(end), str(k)))
    return out
