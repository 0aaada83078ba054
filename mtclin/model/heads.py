"""Task heads, registered by task kind. Each takes the encoder's last hidden states and returns
``{"logits": ..., "loss": ...}`` (loss only when labels are given)."""

from __future__ import annotations

from importlib import import_module
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from mtclin.data import IGNORE_INDEX  # the one ignore index of the project
from mtclin.registry import Registry

# head kind (``TaskSpec.head_kind``: the task kind, or "span") -> head class, called as
# (hidden_size, num_outputs, dropout, **TaskSpec.head_options). A head reading batch inputs beyond the encoder's
# (span positions) names them in its class attribute ``inputs``; the multitask model routes them to it.
def _load_heads() -> None:
    for module in ("mtclin.model.span_head", "mtclin.model.link_heads"):  # their @register_head lines
        import_module(module)


HEADS: Registry[Callable[..., nn.Module]] = Registry("head", load=_load_heads)
register_head = HEADS.register


@register_head("ner")
class TokenClassificationHead(nn.Module):
    """A linear classifier per subword token (paper Fig. 2); loss ignores padding and non-first subwords."""

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_outputs)

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.classifier(self.dropout(hidden))  # (B, T, C)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE_INDEX)
        return out


@register_head("nli")
class SequenceClassificationHead(nn.Module):
    """A linear classifier on the [CLS] representation (entailment)."""

    def __init__(self, hidden_size: int, num_outputs: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_outputs)

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.classifier(self.dropout(hidden[:, 0]))  # (B, C) from [CLS]
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.float(), labels)
        return out


@register_head("sts")
class RegressionHead(nn.Module):
    """Linear regression on [CLS] (similarity), MSE loss; predictions are clipped to [0, 5] by ``predict``."""

    def __init__(self, hidden_size: int, num_outputs: int = 1, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.regressor = nn.Linear(hidden_size, 1)

    def forward(self, hidden: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.regressor(self.dropout(hidden[:, 0])).squeeze(-1)  # (B,)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.mse_loss(logits.float(), labels.float())
        return out

    @staticmethod
    def predict(logits: torch.Tensor) -> torch.Tensor:
        return logits.float().clamp(0.0, 5.0)
