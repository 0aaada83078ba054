"""A task's processed split, loaded and encoded once: the rows (offsets, gold) and the encoder inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import polars as pl
import torch

from mtclin.data.collate import collate_ner, collate_pairs, collate_spans
from mtclin.data.collate_links import collate_links
from mtclin.data.encode_links import LinkItem, encode_links
from mtclin.data.encode_ner import NerWindow, encode_ner
from mtclin.data.encode_pairs import PairExample, encode_pairs
from mtclin.data.encode_spans import encode_spans
from mtclin.tasks import TaskSpec


@dataclass
class TaskData:
    spec: TaskSpec
    rows: list[dict[str, Any]]  # the processed rows (NER: offsets and gold; pairs: labels)
    items: list[NerWindow] | list[PairExample] | list[LinkItem]  # encoder inputs; NER windows point back to rows

    @property
    def lengths(self) -> list[int]:
        return [len(item) for item in self.items]

    def collate(self, indices: Sequence[int], pad_token_id: int) -> dict[str, torch.Tensor]:
        chosen = [self.items[i] for i in indices]
        if self.spec.is_link:
            return collate_links(chosen, pad_token_id, self.spec.kind)  # type: ignore[arg-type]
        if self.spec.is_span:
            return collate_spans(chosen, pad_token_id, self.spec.max_span_width)  # type: ignore[arg-type]
        if self.spec.kind == "ner":
            return collate_ner(chosen, pad_token_id)  # type: ignore[arg-type]
        return collate_pairs(chosen, pad_token_id)  # type: ignore[arg-type]


def load_rows(processed_dir: Path, task: str, split: str, limit: int = 0) -> list[dict[str, Any]]:
    """The processed rows of ``task``'s split: ``processed_dir/<corpus>/<split>.parquet``, the corpus being the
    task's own or, for a derived task (assertion, relation), its source's."""
    from mtclin.corpora.registry import source_of

    path = processed_path(processed_dir, task, split)
    task = source_of(task)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: processed split missing; run `dvc repro` (or `mtclin preprocess {task}`)")
    frame = pl.read_parquet(path)
    if limit:
        frame = frame.head(limit)
    return frame.to_dicts()


def processed_path(processed_dir: Path, task: str, split: str) -> Path:
    """Where ``task``'s processed split lies (a derived task reads its source corpus's tables)."""
    from mtclin.corpora.registry import source_of

    return Path(processed_dir) / source_of(task) / f"{split}.parquet"


def encode_task(spec: TaskSpec, rows: list[dict[str, Any]], tokenizer: Any, max_length: int, stride: int
                ) -> TaskData:
    if spec.is_link:
        items: Any = encode_links(rows, tokenizer, spec, max_length, stride)
    elif spec.is_span:
        items = encode_spans(rows, tokenizer, spec.labels, max_length, stride)
    elif spec.kind == "ner":
        items = encode_ner(rows, tokenizer, spec.tag_labels, max_length, stride)
    else:
        items = encode_pairs(rows, tokenizer, spec.kind, spec.tag_labels, max_length)
    return TaskData(spec, rows, items)
