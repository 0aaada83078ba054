"""What one training call sets up once: where it runs (device, DDP rank), the model (fresh, or on a trained
model's encoder), the encoded data of every task and split, the batch streams and the optimiser."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from mtclin.data.collate import LengthBucketSampler
from mtclin.data.encode_links import type_pairs
from mtclin.data.encode_spans import default_max_width
from mtclin.data.task_data import TaskData, encode_task, load_rows
from mtclin.model.io import ModelMeta, build_model, build_model_from, load_meta, resolve_device
from mtclin.tasks import LINK_WIDTH, TaskSpec, task_for_corpus
from mtclin.train.config import TrainConfig, selection_splits
from mtclin.train.schedules import plan_epoch


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """bf16 where the GPU supports it, else fp16 (with loss scaling); no autocast on CPU."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class StepForward(torch.nn.Module):
    """The forward pass of one optimisation step: every batch of the step (one task's under round robin, every
    task's under loss_sum) -> their losses, in ONE module call. DDP allows a single forward per backward (a second
    one before it fails with "marked as ready twice"), and finds the heads the step left unused from it."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batches: Sequence[tuple[str, dict[str, torch.Tensor]]]) -> list[torch.Tensor]:
        return [self.model(name, **batch)["loss"] for name, batch in batches]


class TaskStream:
    """One task's batches, epoch after epoch: a task that runs out restarts with a fresh shuffle, so smaller tasks
    cycle while the largest defines the epoch (paper, Algorithm 1). State: (epoch, position)."""

    def __init__(self, sampler: LengthBucketSampler):
        self.sampler = sampler
        self.epoch, self.position = 0, 0
        self._batches = sampler.batches(0)

    def __len__(self) -> int:
        return len(self._batches)

    def next(self) -> list[int]:
        if self.position >= len(self._batches):
            self.epoch, self.position = self.epoch + 1, 0
            self._batches = self.sampler.batches(self.epoch)
        self.position += 1
        return self._batches[self.position - 1]

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def restore(self, state: dict[str, int]) -> None:
        self.epoch, self.position = state["epoch"], state["position"]
        self._batches = self.sampler.batches(self.epoch)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """This rank's share of a global batch (a batch smaller than the world repeats examples, never empty)."""
    part = batch[rank::world]
    return part or [batch[rank % len(batch)]]


def seeded_share(rows: list[dict[str, Any]], fraction: float, seed: int) -> list[dict[str, Any]]:
    """``fraction`` of the rows, drawn with ``seed``: whole documents for NER rows (``doc_id``), else rows; at
    least one; original order kept."""
    if fraction >= 1:
        return rows
    if not 0 < fraction:
        raise ValueError(f"train_fraction must be in (0, 1], got {fraction}")
    units = sorted({r.get("doc_id", i) for i, r in enumerate(rows)}, key=str)
    chosen = set(random.Random(seed).sample(units, max(1, round(fraction * len(units)))))
    return [r for i, r in enumerate(rows) if r.get("doc_id", i) in chosen]


def task_rows(config: TrainConfig, corpus: str, splits: Sequence[str]) -> list[dict[str, Any]]:
    """A task's rows of ``splits`` (concatenated in that order); training rows limited by ``limit_train`` and
    ``train_fraction``."""
    training = "train" in splits
    limit = config.limit_train if training else config.limit_eval
    rows = [row for split in splits for row in load_rows(Path(config.processed_dir), corpus, split, limit)]
    if training:
        rows = seeded_share(rows, config.train_fraction, config.seed)
    if not rows:
        raise ValueError(f"{config.processed_dir}/{corpus}/{'+'.join(splits)}.parquet has no rows")
    return rows


def training_task(config: TrainConfig, corpus: str, train_rows: Sequence[dict[str, Any]]) -> TaskSpec:
    """The task trained for ``corpus``: its declaration, with the NER head ``ner_heads`` asks for; a span task's
    maximum width from ``max_span_widths``, else the narrowest covering 99 % of its train gold entities."""
    spec = task_for_corpus(corpus, Path(config.processed_dir), config.ner_heads.get(corpus))
    if spec.is_link:  # the width embedding's size is recorded, so a saved model never depends on the default
        spec = replace(spec, max_span_width=LINK_WIDTH)
    if spec.kind == "relation":  # candidates: the argument types the train gold relations pair, within the limit
        return replace(spec, type_pairs=type_pairs(train_rows), max_pair_chars=config.relation_max_chars)
    if spec.is_link:
        return spec
    if not spec.is_span:
        return spec
    width = config.max_span_widths.get(corpus) or default_max_width(train_rows, spec.labels).max_width
    return replace(spec, max_span_width=width, span_threshold=config.span_threshold)


def load_task_data(config: TrainConfig, tokenizer: Any, tasks: Sequence[TaskSpec],
                   rows: dict[str, list[dict[str, Any]]]) -> dict[str, TaskData]:
    """Every task's ``rows`` (:func:`task_rows`), encoded."""
    return {t.name: encode_task(t, rows[t.name], tokenizer, config.max_length_for(t.name, t.kind), config.stride)
            for t in tasks}


@dataclass
class Session:
    """What one training call sets up once: where it runs, the model, the data and the optimiser state."""

    config: TrainConfig
    rank: int
    world: int
    device: torch.device
    tasks: list[TaskSpec]
    model: torch.nn.Module
    net: torch.nn.Module  # StepForward(model), or its DDP wrapper
    tokenizer: Any
    train_data: dict[str, TaskData]
    select_data: dict[str, TaskData]
    streams: dict[str, TaskStream]
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    dtype: torch.dtype | None
    meta: ModelMeta
    init_dir: Path | None = None  # the model training started from (config.init resolved to a directory)
    carried: list[TaskSpec] = field(default_factory=list)  # its tasks kept with their heads, not trained

    @property
    def out_dir(self) -> Path:
        return Path(self.config.output_dir)

    def next_batch(self, name: str) -> dict[str, torch.Tensor]:
        indices = shard(self.streams[name].next(), self.rank, self.world)  # this rank's share of the global batch
        batch = self.train_data[name].collate(indices, self.tokenizer.pad_token_id)
        return {k: v.to(self.device) for k, v in batch.items()}

    def plan(self, epoch: int) -> list[tuple[str, ...]]:
        return plan_epoch(self.config.schedule, {n: len(s) for n, s in self.streams.items()}, self.config.seed,
                          epoch, self.config.temperature)


def parameter_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    """The optimizer's parameter groups: one (every parameter at ``learning_rate``) unless ``head_learning_rate``
    differs, then the encoder's at ``learning_rate`` and the heads' at ``head_learning_rate``. One group in the
    default case keeps checkpoints made before the setting existed resumable (an optimizer state fixes its groups)."""
    if not config.head_learning_rate or config.head_learning_rate == config.learning_rate:
        return [{"params": list(model.parameters())}]
    return [{"params": list(model.encoder.parameters())},
            {"params": list(model.heads.parameters()), "lr": config.head_learning_rate}]


def set_up(config: TrainConfig, init_dir: Path | None = None) -> Session:
    """Device, seeds, model, tokenizer, encoded data, batch streams, optimiser (and DDP when under torchrun).
    ``init_dir``: where ``config.init`` is on disk (needed for a models:/ reference, which only the tracking
    layer can fetch: see :func:`mtclin.tracking.fetch.local_model`)."""
    train_splits, select_split = selection_splits(config.selection)
    rank, world = _distributed()
    device = resolve_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    _seed_everything(config.seed)
    train_rows = {c: task_rows(config, c, train_splits) for c in config.corpora}
    tasks = [training_task(config, c, train_rows[c]) for c in config.corpora]
    carried: list[TaskSpec] = []
    if config.init:
        if init_dir is None and config.init.startswith("models:/"):
            raise ValueError(f"init {config.init!r}: a registry reference must be fetched first (mtclin train and "
                             "the flows do it; in code use mtclin.tracking.fetch.local_model)")
        init_dir = Path(init_dir or config.init)
        model, tokenizer, all_tasks = build_model_from(init_dir, tasks, config.dropout, config.keep_heads)
        carried = all_tasks[len(tasks):]
    else:
        init_dir = None
        model, tokenizer = build_model(config.encoder, tasks, config.dropout)
    model.to(device)
    train_data = load_task_data(config, tokenizer, tasks, train_rows)
    select_data = load_task_data(config, tokenizer, tasks, {c: task_rows(config, c, (select_split,))
                                                            for c in config.corpora})
    streams = {
        name: TaskStream(LengthBucketSampler(data.lengths, config.batch_size(name, data.spec.kind),
                                             shuffle=True, seed=config.seed + i))
        for i, (name, data) in enumerate(train_data.items())
    }
    # every parameter is trained, heads included (the paper's code left the heads out of the optimizer)
    optimizer = torch.optim.AdamW(parameter_groups(model, config), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    dtype = amp_dtype(device, config.amp)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    # heads a step does not use get no gradient: DDP must be told (every rank skips the same heads)
    net = DistributedDataParallel(StepForward(model), find_unused_parameters=True) if world > 1 else \
        StepForward(model)
    lengths = {t.name: config.max_length_for(t.name, t.kind) for t in tasks}
    if carried:  # carried tasks keep the lengths they were trained with
        init_meta = load_meta(init_dir)
        lengths |= {t.name: init_meta.length_for(t) for t in carried}
    meta = ModelMeta(tuple(tasks + carried), config.max_length, config.stride, config.pair_max_length,
                     config.init or config.encoder, max_lengths=lengths)
    return Session(config, rank, world, device, tasks, model, net, tokenizer, train_data, select_data, streams,
                   optimizer, scaler, dtype, meta, init_dir, carried)
