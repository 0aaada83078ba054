"""Batches: dynamic padding to the batch's longest sequence, and length-bucketed batch sampling.

Bucketing sorts only within chunks of ``batch_size * bucket_size_multiplier`` shuffled examples, so batches are
near-homogeneous in length (little padding) while the data order stays random; the batch order is shuffled too
so long and short batches alternate.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler

from mtclin.data import IGNORE_INDEX
from mtclin.data.encode_ner import NerWindow
from mtclin.data.encode_spans import candidate_labels, window_candidates
from mtclin.data.encode_pairs import PairExample


def _pad(arrays: Sequence[np.ndarray], value: int, width: int) -> np.ndarray:
    out = np.full((len(arrays), width), value, dtype=np.int64)  # (B, T)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out


def _common(items: Sequence[NerWindow | PairExample], pad_token_id: int) -> tuple[dict[str, torch.Tensor], int]:
    if not items:
        raise ValueError("cannot collate an empty batch (check batch_size and the sampler)")
    width = max(len(item) for item in items)
    lengths = np.array([len(item) for item in items])
    batch = {
        "input_ids": torch.from_numpy(_pad([item.input_ids for item in items], pad_token_id, width)),
        # (B, T): 1 on real tokens
        "attention_mask": torch.from_numpy((np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)),
    }
    return batch, width


def collate_ner(windows: Sequence[NerWindow], pad_token_id: int) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``token_type_ids`` (zeros), ``labels`` (IGNORE_INDEX on padding; only
    when every window is labelled) as int64 tensors of shape (B, T), T = the longest window of the batch."""
    batch, width = _common(windows, pad_token_id)
    batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
    if all(w.labels is not None for w in windows):
        batch["labels"] = torch.from_numpy(_pad([w.labels for w in windows], IGNORE_INDEX, width))
    return batch


def collate_spans(windows: Sequence[NerWindow], pad_token_id: int, max_width: int) -> dict[str, torch.Tensor]:
    """``collate_ner``'s inputs plus each window's candidate spans (``encode_spans.window_candidates``) for a span
    head: ``span_starts``, ``span_ends`` (0 on padding), ``span_widths`` (-1 on padding) and, when every window
    carries its gold (``NerWindow.spans``), ``labels`` (type id per candidate, 0 none, IGNORE_INDEX on padding),
    int64 of shape (B, S), S = the most candidates of a window of the batch (at least 1)."""
    batch = collate_ner(windows, pad_token_id)  # no "labels": span windows carry no BIO tags
    candidates = [window_candidates(w, max_width) for w in windows]
    width = max([len(c) for c in candidates] + [1])
    batch["span_starts"] = torch.from_numpy(_pad([c.starts for c in candidates], 0, width))
    batch["span_ends"] = torch.from_numpy(_pad([c.ends for c in candidates], 0, width))
    batch["span_widths"] = torch.from_numpy(_pad([c.widths for c in candidates], -1, width))
    if all(w.spans is not None for w in windows):
        batch["labels"] = torch.from_numpy(_pad([candidate_labels(c, w.spans) for c, w in zip(candidates, windows)],
                                                IGNORE_INDEX, width))
    return batch


def collate_pairs(examples: Sequence[PairExample], pad_token_id: int) -> dict[str, torch.Tensor]:
    """``input_ids``, ``attention_mask``, ``token_type_ids`` (0 on padding) of shape (B, T), and ``labels`` of
    shape (B,) (int64 class indices or float32 scores; only when every example is labelled)."""
    batch, width = _common(examples, pad_token_id)
    batch["token_type_ids"] = torch.from_numpy(_pad([e.token_type_ids for e in examples], 0, width))
    targets = [e.label for e in examples]
    if all(t is not None for t in targets):
        is_score = any(isinstance(t, float) for t in targets)
        batch["labels"] = torch.tensor(targets, dtype=torch.float32 if is_score else torch.int64)
    return batch


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Inference/evaluation batches: indices sorted by length, cut into batches (little padding); callers put the
    results back in the original order by index."""
    order = np.argsort(lengths, kind="stable")
    for i in range(0, len(order), batch_size):
        yield order[i:i + batch_size].tolist()


class LengthBucketSampler(Sampler[list[int]]):
    """Batch sampler (``DataLoader(batch_sampler=...)``) yielding lists of example indices.

    Per epoch: shuffle all indices (seeded by ``seed`` and the epoch), sort each chunk of
    ``batch_size * bucket_size_multiplier`` by length (longest first), cut the chunks into batches, shuffle the
    batches. ``shuffle=False`` keeps the index order and only cuts it into batches. The same seed and epoch
    always give the same batches.

    Resume: ``state_dict()`` holds the epoch and how many of its batches were handed out; after
    ``load_state_dict()`` iteration continues with the remaining batches of that epoch. A DataLoader with
    workers fetches batches ahead, so there store the number of batches the loop actually consumed as
    ``position``. Finishing an epoch moves to the next one (``set_epoch`` may also be called each epoch; calling
    it with the current epoch keeps a restored position)."""

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0,
                 bucket_size_multiplier: int = 100, drop_last: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be >= 1")
        if bucket_size_multiplier < 1:
            raise ValueError(f"bucket_size_multiplier={bucket_size_multiplier}: must be >= 1")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.bucket_size_multiplier = bucket_size_multiplier
        self.drop_last = drop_last
        self.epoch = 0
        self.position = 0  # batches of the current epoch already handed out

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self.position = epoch, 0

    def batches(self, epoch: int) -> list[list[int]]:
        """Every batch of ``epoch``, in order (the same for the same seed, epoch and lengths)."""
        n, size = len(self.lengths), self.batch_size
        if not self.shuffle:
            order = np.arange(n)
            cut = [order[i:i + size] for i in range(0, n, size)]
        else:
            rng = np.random.default_rng([self.seed, epoch])
            order = rng.permutation(n)
            chunk = size * self.bucket_size_multiplier
            cut = []
            for c in range(0, n, chunk):
                idx = order[c:c + chunk]
                idx = idx[np.argsort(-self.lengths[idx], kind="stable")]
                cut.extend(idx[i:i + size] for i in range(0, len(idx), size))
        if self.drop_last:
            cut = [b for b in cut if len(b) == size]
        if self.shuffle:
            cut = [cut[k] for k in rng.permutation(len(cut))]
        return [b.tolist() for b in cut]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.batches(self.epoch)
        while self.position < len(batches):
            self.position += 1  # counted before the yield: a checkpoint taken after using it skips it on resume
            yield batches[self.position - 1]
        self.epoch, self.position = self.epoch + 1, 0

    def __len__(self) -> int:
        """Batches per epoch (not the remaining ones)."""
        n, size = len(self.lengths), self.batch_size
        chunk = size * self.bucket_size_multiplier if self.shuffle else max(n, 1)
        sizes = [min(chunk, n - c) for c in range(0, n, chunk)]
        return sum(s // size if self.drop_last else -(-s // size) for s in sizes)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("seed", self.seed) != self.seed:
            raise ValueError(f"sampler state has seed={state['seed']} but this sampler seed={self.seed}: resume "
                             "with the same training seed, or the remaining batches would differ")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
