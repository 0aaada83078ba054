"""Sentence-pair encoding for entailment (class index) and similarity (float score): ``[CLS] a [SEP] b [SEP]``.

Pairs longer than ``max_length`` are truncated longest-first (one token at a time from the longer side), the
usual choice for NLI/STS, which keeps both sentences represented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.corpora.types import TaskKind


@dataclass(eq=False)
class PairExample:
    """One encoder input. Arrays are int64 of length T (no padding; collation pads)."""

    input_ids: np.ndarray  # (T,) [CLS] a [SEP] b [SEP]
    token_type_ids: np.ndarray  # (T,) 0 on [CLS] a [SEP], 1 on b [SEP]
    label: int | float | None  # class index (nli), score (sts), None when unlabelled
    example_index: int  # position of the row in the input sequence

    def __len__(self) -> int:
        return len(self.input_ids)


def _label(row: Mapping[str, Any], i: int, kind: TaskKind, to_id: Mapping[str, int]) -> int | float | None:
    if kind == "nli":
        label = row.get("label")
        if label is None:
            return None
        if label not in to_id:
            raise ValueError(f"row {i} (id={row.get('id')!r}): label {label!r} is not one of the task's labels "
                             f"{list(to_id)}; check the task's label list against the processed data")
        return to_id[label]
    if kind == "sts":
        score = row.get("score")
        return None if score is None else float(score)
    raise ValueError(f"kind={kind!r}: pair encoding is for 'nli' or 'sts' tasks (use encode_ner for 'ner')")


def encode_pairs(
    rows: Sequence[Mapping[str, Any]],
    tokenizer: Any,
    kind: TaskKind,
    labels: Sequence[str],
    max_length: int,
) -> list[PairExample]:
    """Encode pair rows (``a``, ``b``, and ``label`` for nli / ``score`` for sts when known).

    ``labels``: the task's classes in head order (``TaskSpec.tag_labels``; ignored for sts). A row whose label /
    score is missing or None gets ``label=None`` (inference). ``max_length`` includes the three special tokens."""
    if max_length < 3:
        raise ValueError(f"max_length={max_length}: needs at least 3 tokens for [CLS] a [SEP] b [SEP]")
    to_id = {label: k for k, label in enumerate(labels)}
    targets = [_label(row, i, kind, to_id) for i, row in enumerate(rows)]
    if not rows:
        return []
    enc = tokenizer([row["a"] for row in rows], [row["b"] for row in rows], truncation="longest_first",
                    max_length=max_length, return_attention_mask=False, return_token_type_ids=True)
    return [
        PairExample(
            input_ids=np.asarray(enc["input_ids"][i], dtype=np.int64),
            token_type_ids=np.asarray(enc["token_type_ids"][i], dtype=np.int64),
            label=targets[i],
            example_index=i,
        )
        for i in range(len(rows))
    ]
