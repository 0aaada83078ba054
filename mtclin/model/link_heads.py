"""Heads over entities of a NER window: assertion (each entity -> its assertion value) and relation (each
candidate entity pair -> a relation type or none).

Both represent an entity with the span head's :class:`SpanRepresentation` (``[h_start; h_end; width]``, one piece
of code for every head over spans). No [CLS] vector is added: it is the same for every entity of a window, so it
cannot tell "denies chest pain, has fever" apart; the cue words ("denies", "mother", "if") reach the entity's own
start and end states through attention, which is what the assertion depends on. A hidden layer (GELU) follows, as
in the span head: the cue and the entity interact rather than add up.

The relation head scores the ordered pair (arg1, arg2) from ``[r1; r2; r1 * r2; distance]``: the product lets a
pair's fit (this drug with this dose) show directly, the distance bucket (signed word gap, ``encode_links``)
says how far apart and in which order the two are.

Batch inputs (``mtclin.data.collate_links``): ``entity_starts/ends/widths`` (B, E), and for relations
``pair_first/second/buckets`` (B, P). Loss: cross entropy over labelled candidates (IGNORE_INDEX elsewhere),
summed and divided by their number, so a batch without any labelled candidate has loss 0 (not NaN).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from mtclin.data import IGNORE_INDEX
from mtclin.data.encode_links import DISTANCE_BUCKETS
from mtclin.model.heads import register_head
from mtclin.model.span_head import SpanRepresentation

DISTANCE_EMBEDDING = 16  # signed gap buckets: a handful of values


def _loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    flat = labels.flatten()
    total = F.cross_entropy(logits.flatten(0, 1).float(), flat, ignore_index=IGNORE_INDEX, reduction="sum")
    return total / (flat != IGNORE_INDEX).sum().clamp(min=1)


def _classifier(inputs: int, hidden: int, outputs: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, outputs))


@register_head("assertion")
class AssertionHead(nn.Module):
    """Entity representation -> hidden layer -> one logit per assertion value."""

    inputs = ("entity_starts", "entity_ends", "entity_widths")

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float = 0.1, max_width: int = 16):
        super().__init__()
        self.spans = SpanRepresentation(hidden_size, max_width)
        self.dropout = nn.Dropout(dropout)
        self.classifier = _classifier(self.spans.output_size, hidden_size, num_outputs, dropout)

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None, *,
                entity_starts: torch.Tensor | None = None, entity_ends: torch.Tensor | None = None,
                entity_widths: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if entity_starts is None or entity_ends is None or entity_widths is None:
            raise ValueError("an assertion head classifies the entities of its batch: pass entity_starts, "
                             "entity_ends and entity_widths (mtclin.data.collate_links builds them)")
        reps = self.spans(self.dropout(hidden), entity_starts, entity_ends, entity_widths)  # (B, E, 2H + D)
        logits = self.classifier(reps)  # (B, E, C)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = _loss(logits, labels)
        return out


@register_head("relation")
class RelationHead(nn.Module):
    """Pair of entity representations (+ their product, + distance) -> hidden layer -> none + one logit per type."""

    inputs = ("entity_starts", "entity_ends", "entity_widths", "pair_first", "pair_second", "pair_buckets")

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float = 0.1, max_width: int = 16):
        super().__init__()
        self.spans = SpanRepresentation(hidden_size, max_width)
        self.distance = nn.Embedding(DISTANCE_BUCKETS, DISTANCE_EMBEDDING)
        self.dropout = nn.Dropout(dropout)
        self.classifier = _classifier(3 * self.spans.output_size + DISTANCE_EMBEDDING, hidden_size, num_outputs,
                                      dropout)

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None, *,
                entity_starts: torch.Tensor | None = None, entity_ends: torch.Tensor | None = None,
                entity_widths: torch.Tensor | None = None, pair_first: torch.Tensor | None = None,
                pair_second: torch.Tensor | None = None, pair_buckets: torch.Tensor | None = None
                ) -> dict[str, torch.Tensor]:
        given = (entity_starts, entity_ends, entity_widths, pair_first, pair_second, pair_buckets)
        if any(t is None for t in given):
            raise ValueError("a relation head classifies the entity pairs of its batch: pass " + ", ".join(
                self.inputs) + " (mtclin.data.collate_links builds them)")
        reps = self.spans(self.dropout(hidden), entity_starts, entity_ends, entity_widths)  # (B, E, R)
        size = reps.size(-1)

        def pick(index: torch.Tensor) -> torch.Tensor:  # (B, P) -> (B, P, R)
            return reps.gather(1, index.clamp(min=0).unsqueeze(-1).expand(-1, -1, size))

        first, second = pick(pair_first), pick(pair_second)
        features = torch.cat([first, second, first * second, self.distance(pair_buckets.clamp(min=0))], dim=-1)
        logits = self.classifier(features)  # (B, P, C)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = _loss(logits, labels)
        return out
