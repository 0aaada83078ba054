"""MultiTaskModel: a shared encoder and a ModuleDict of heads; it only routes by task name (and hands a head the
batch inputs it names in ``inputs``, e.g. a span head's candidate spans)."""

from __future__ import annotations

from typing import Mapping, Sequence

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
        self.heads = nn.ModuleDict({t.name: HEADS[t.head_kind](hidden, t.num_outputs, dropout, **t.head_options)
                                    for t in tasks})

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Last hidden states, (B, T, H)."""
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state

    def forward(self, task: str, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                **head_inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """One task's head over one encoder pass: ``{"logits", "loss"?}``. ``head_inputs``: the batch's other
        tensors, for heads that name them (a span head's ``span_starts`` ...)."""
        hidden = self.encode(input_ids, attention_mask, token_type_ids)
        return self.heads[task](hidden, labels, **self._inputs_of(task, head_inputs))

    def forward_heads(self, tasks: Sequence[str], input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None,
                      head_inputs: Mapping[str, Mapping[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """Several heads over ONE encoder pass (inference): task name -> logits. ``head_inputs``: per task, the
        extra inputs its head names (span tasks' candidates differ by their maximum width, hence per task)."""
        hidden = self.encode(input_ids, attention_mask, token_type_ids)
        return self.heads_on(tasks, hidden, head_inputs)

    def heads_on(self, tasks: Sequence[str], hidden: torch.Tensor,
                 head_inputs: Mapping[str, Mapping[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        """Several heads over given hidden states (B, T, H): task name -> logits. Inference reuses the NER
        windows' states this way for the assertion and relation heads (no second encoder pass)."""
        extra = head_inputs or {}
        return {t: self.heads[t](hidden, **self._inputs_of(t, extra.get(t, {})))["logits"] for t in tasks}

    def _inputs_of(self, task: str, given: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        names = getattr(self.heads[task], "inputs", ())
        return {k: v for k, v in given.items() if k in names}
