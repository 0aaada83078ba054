"""MultiTaskModel: a shared encoder and a ModuleDict of heads; it only routes by task name."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from mtclin.model.heads import HEADS
from mtclin.tasks import TaskSpec


class MultiTaskModel(nn.Module):
    def __init__(self, encoder: nn.Module, tasks: Sequence[TaskSpec], dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.tasks = {t.name: t for t in tasks}
        hidden = encoder.config.hidden_size
        self.heads = nn.ModuleDict({t.name: HEADS[t.kind](hidden, t.num_outputs, dropout) for t in tasks})

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Last hidden states, (B, T, H)."""
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state

    def forward(self, task: str, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None
                ) -> dict[str, torch.Tensor]:
        """One task's head over one encoder pass: ``{"logits", "loss"?}``."""
        hidden = self.encode(input_ids, attention_mask, token_type_ids)
        return self.heads[task](hidden, labels)

    def forward_heads(self, tasks: Sequence[str], input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Several heads over ONE encoder pass (inference): task name -> logits."""
        hidden = self.encode(input_ids, attention_mask, token_type_ids)
        return {t: self.heads[t](hidden)["logits"] for t in tasks}
