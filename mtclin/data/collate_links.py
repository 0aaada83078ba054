"""Batches of link items (assertion / relation): the NER windows' inputs plus the padded candidates.

Shapes (B = windows, E = most entities of a window of the batch, P = most pairs; each at least 1):
    entity_starts, entity_ends  (B, E) token position of the entity's first / last word's first subword (0 pad)
    entity_widths               (B, E) width in words minus one, capped (-1 on padding)
    pair_first, pair_second     (B, P) relation tasks: indices into the window's entities (0 on padding)
    pair_buckets                (B, P) relation tasks: distance bucket (-1 on padding)
    labels                      (B, E) assertion / (B, P) relation, IGNORE_INDEX on padding; only when every
                                item is labelled
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from mtclin.data import IGNORE_INDEX
from mtclin.data.collate import collate_ner
from mtclin.data.encode_links import LinkItem

ENTITY_INPUTS = ("entity_starts", "entity_ends", "entity_widths")
PAIR_INPUTS = ("pair_first", "pair_second", "pair_buckets")


def _pad(arrays: Sequence[np.ndarray], value: int) -> torch.Tensor:
    width = max([len(a) for a in arrays] + [1])
    out = np.full((len(arrays), width), value, dtype=np.int64)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return torch.from_numpy(out)


def link_inputs(items: Sequence[LinkItem], kind: str) -> dict[str, torch.Tensor]:
    """The candidates' tensors alone (what a link head names in ``inputs``)."""
    batch = {"entity_starts": _pad([i.entity_starts for i in items], 0),
             "entity_ends": _pad([i.entity_ends for i in items], 0),
             "entity_widths": _pad([i.entity_widths for i in items], -1)}
    if kind == "relation":
        batch |= {"pair_first": _pad([i.pair_first for i in items], 0),
                  "pair_second": _pad([i.pair_second for i in items], 0),
                  "pair_buckets": _pad([i.pair_buckets for i in items], -1)}
    return batch


def collate_links(items: Sequence[LinkItem], pad_token_id: int, kind: str) -> dict[str, torch.Tensor]:
    """``collate_ner``'s inputs of the items' windows, their candidates and (when all are labelled) labels."""
    batch = collate_ner([item.window for item in items], pad_token_id)  # windows carry no BIO labels here
    batch.pop("labels", None)
    batch |= link_inputs(items, kind)
    if all(item.labels is not None for item in items):
        batch["labels"] = _pad([item.labels for item in items], IGNORE_INDEX)  # type: ignore[misc]
    return batch
