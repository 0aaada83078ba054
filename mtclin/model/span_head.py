"""The span head: every candidate word span of a window classified as an entity type or none, so nested and
overlapping entities are learnt instead of flattened away (as spaCy's spancat / span-marker do).

A span is represented by :class:`SpanRepresentation`: the encoder state of its first word's first subword, of its
last word's first subword, and a learnt embedding of its width in words — ``[h_start; h_end; w(width)]``. The
module is separate so that heads over entity spans (assertion, relation) reuse it. Which spans are candidates,
and their labels, come with the batch (``mtclin.data.encode_spans`` enumerates them per window); the head only
gathers and classifies.

Batch inputs (B = windows, S = candidate spans of the widest window of the batch; padding spans have width -1):
    span_starts, span_ends  (B, S) token position of the span's first / last word's first subword
    span_widths             (B, S) width in words minus one, 0 .. max_width - 1
    labels                  (B, S) 0 = none, k = the task's k-th type (``TaskSpec.tag_labels``), IGNORE_INDEX on
                            padding; only when training
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from mtclin.data import IGNORE_INDEX
from mtclin.model.heads import register_head

WIDTH_EMBEDDING = 32  # width features: enough for up to a few dozen widths, small next to 2 x hidden


class SpanRepresentation(nn.Module):
    """``[h_start; h_end; width embedding]`` per span, of size ``output_size = 2 * hidden + width_dim``."""

    def __init__(self, hidden_size: int, max_width: int, width_dim: int = WIDTH_EMBEDDING):
        super().__init__()
        if max_width < 1:
            raise ValueError(f"max_width={max_width}: a span head needs spans of at least one word")
        self.width = nn.Embedding(max_width, width_dim)
        self.output_size = 2 * hidden_size + width_dim

    def forward(self, hidden: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor, widths: torch.Tensor
                ) -> torch.Tensor:
        """``hidden`` (B, T, H); ``starts``/``ends``/``widths`` (B, S), padding anything < 0 -> (B, S, out)."""
        size = hidden.size(-1)

        def at(positions: torch.Tensor) -> torch.Tensor:  # (B, S) -> (B, S, H), padding reads token 0
            return hidden.gather(1, positions.clamp(min=0).unsqueeze(-1).expand(-1, -1, size))

        return torch.cat([at(starts), at(ends), self.width(widths.clamp(min=0))], dim=-1)


@register_head("span")
class SpanClassificationHead(nn.Module):
    """Span representation -> one hidden layer (GELU) -> none + one logit per type. A hidden layer rather than a
    linear map: a linear map scores a span as start score + end score + width score, which cannot tell the two
    spans of a nested pair that share a start from the non-entity between them; the interaction can."""

    inputs = ("span_starts", "span_ends", "span_widths")  # the batch keys the multitask model routes here

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float = 0.1, max_width: int = 8):
        super().__init__()
        self.max_width = max_width
        self.spans = SpanRepresentation(hidden_size, max_width)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Sequential(nn.Linear(self.spans.output_size, hidden_size), nn.GELU(),
                                        nn.Dropout(dropout), nn.Linear(hidden_size, num_outputs))

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None, *,
                span_starts: torch.Tensor | None = None, span_ends: torch.Tensor | None = None,
                span_widths: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if span_starts is None or span_ends is None or span_widths is None:
            raise ValueError("a span head scores the candidate spans of its batch: pass span_starts, span_ends "
                             "and span_widths (mtclin.data.collate.collate_spans builds them)")
        reps = self.spans(self.dropout(hidden), span_starts, span_ends, span_widths)  # (B, S, 2H + D)
        logits = self.classifier(reps)  # (B, S, C)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX)
        return out

    @staticmethod
    def predict(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, S, C) logits -> per span: P(an entity) = 1 - P(none), the most likely type (index into the task's
        labels, none excluded) and its probability; each (B, S)."""
        probs = logits.float().softmax(-1)
        best, label = probs[..., 1:].max(-1)
        return 1.0 - probs[..., 0], label, best
