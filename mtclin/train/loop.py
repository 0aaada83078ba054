"""The training loop: every schedule, single-task fine-tuning, AMP, checkpoints, resume and DDP, in one place.

Run under ``torchrun --nproc_per_node N`` for data parallelism: every rank plans the same task for every step
(schedules are seeded), takes its share of each global batch, and DDP averages the gradients.
"""

from __future__ import annotations

import json
import os
import random
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from mtclin.data.collate import LengthBucketSampler
from mtclin.evaluate.run import evaluate_task, overall_score
from mtclin.model.io import ModelMeta, build_model, resolve_device, save_model
from mtclin.tasks import task_for_corpus
from mtclin.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from mtclin.train.config import TrainConfig
from mtclin.train.schedules import plan_epoch
from mtclin.train.task_data import TaskData, encode_task, load_rows

StepHook = Callable[[int, dict[str, float]], None]  # (global step, {task: loss})
EpochHook = Callable[[int, dict[str, dict[str, Any]]], None]  # (epoch, {task: metrics})


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path  # the best epoch's model
    history: list[dict[str, Any]]  # per epoch: {"epoch", "score", "metrics": {task: {...}}, "train_loss": {...}}
    best_epoch: int
    steps: int
    finished: bool  # False when stopped early by max_steps
    resumed_from_step: int = 0  # the checkpoint's step this call started from (0: a fresh start)


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """bf16 where the GPU supports it, else fp16 (with loss scaling); no autocast on CPU."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


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


def _global_mean(value: torch.Tensor, world: int) -> float:
    """A loss averaged over ranks, for logging (each rank only sees its share of the batch)."""
    if world > 1:
        value = value.clone()
        dist.all_reduce(value)
        value /= world
    return value.item()


def shard(batch: list[int], rank: int, world: int) -> list[int]:
    """This rank's share of a global batch (a batch smaller than the world repeats examples, never empty)."""
    part = batch[rank::world]
    return part or [batch[rank % len(batch)]]


def optimisation_step(net: torch.nn.Module, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                      scaler: torch.amp.GradScaler | None, batches: list[tuple[str, dict[str, torch.Tensor]]],
                      device_type: str, dtype: torch.dtype | None, grad_clip: float, world: int = 1
                      ) -> dict[str, float]:
    """One step: forward each task's batch (``net`` may be the DDP wrapper of ``model``), sum the losses, one
    backward, clip, update. Returns each task's loss (averaged over ranks)."""
    # forward backward update: one batch of each task of this step, losses summed
    optimizer.zero_grad(set_to_none=True)
    losses: dict[str, float] = {}
    total = None
    for name, batch in batches:
        with torch.autocast(device_type, dtype=dtype) if dtype else nullcontext():
            loss = net(name, **batch)["loss"]
        losses[name] = _global_mean(loss.detach(), world)
        total = loss if total is None else total + loss
    (scaler.scale(total) if scaler else total).backward()
    if scaler:
        scaler.unscale_(optimizer)
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    return losses


def load_task_data(config: TrainConfig, tokenizer: Any, split: str) -> dict[str, TaskData]:
    limit = config.limit_train if split == "train" else config.limit_eval
    out = {}
    for corpus in config.corpora:
        spec = task_for_corpus(corpus)
        rows = load_rows(Path(config.processed_dir), corpus, split, limit)
        if not rows:
            raise ValueError(f"{config.processed_dir}/{corpus}/{split}.parquet has no rows")
        out[corpus] = encode_task(spec, rows, tokenizer, config.max_length_for(corpus, spec.kind), config.stride)
    return out


def train(config: TrainConfig, on_step: StepHook | None = None, on_epoch: EpochHook | None = None,
          resume: bool = True) -> TrainResult:
    """Train ``config.corpora``' tasks jointly (one corpus: single-task fine-tuning), evaluating every task's test
    split after each epoch, keeping the best epoch's model (mean of the tasks' primary metrics, as in the paper).
    Resumes from ``output_dir/checkpoints`` when a checkpoint exists and ``resume``."""
    rank, world = _distributed()
    device = resolve_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    _seed_everything(config.seed)
    out_dir = Path(config.output_dir)
    ckpt_dir = out_dir / "checkpoints"
    tasks = [task_for_corpus(c) for c in config.corpora]
    model, tokenizer = build_model(config.encoder, tasks, config.dropout)
    model.to(device)
    train_data = load_task_data(config, tokenizer, "train")
    eval_data = load_task_data(config, tokenizer, "test")
    pad_id = tokenizer.pad_token_id
    streams = {
        name: TaskStream(LengthBucketSampler(data.lengths, config.batch_size(name, data.spec.kind),
                                             shuffle=True, seed=config.seed + i))
        for i, (name, data) in enumerate(train_data.items())
    }
    # every parameter is trained, heads included (the paper's code left the heads out of the optimizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    dtype = amp_dtype(device, config.amp)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    # heads a step does not use get no gradient: DDP must be told (every rank skips the same heads)
    net = DistributedDataParallel(model, find_unused_parameters=True) if world > 1 else model

    state: dict[str, Any] = {"epoch": 0, "step_in_epoch": 0, "history": [], "best": None, "losses": {}}
    step = start_step = 0
    found = latest_checkpoint(ckpt_dir) if resume else None
    if found is not None:
        state = load_checkpoint(found, model, optimizer, scaler, device)
        step = start_step = state["step"]
        for name, s in state["streams"].items():
            streams[name].restore(s)
    (out_dir / "config.json").parent.mkdir(parents=True, exist_ok=True)
    if rank == 0:
        (out_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    meta = ModelMeta(tuple(tasks), config.max_length, config.stride, config.pair_max_length, config.encoder)

    def checkpoint() -> None:
        if rank == 0:
            save_checkpoint(ckpt_dir, step, model, optimizer, scaler,
                            state | {"streams": {n: s.state() for n, s in streams.items()},
                                     "config": config.to_dict()}, keep=config.keep_checkpoints)
        if world > 1:
            dist.barrier()

    if config.max_steps and step >= config.max_steps:  # re-running a finished max_steps run changes nothing
        return _result(out_dir, state, step, start_step, finished=False)
    progress = None
    if config.progress and rank == 0:
        from tqdm.auto import tqdm

        progress = tqdm(desc="train", initial=step, dynamic_ncols=True)

    def next_batch(name: str) -> dict[str, torch.Tensor]:
        indices = shard(streams[name].next(), rank, world)  # this rank's share of the task's next global batch
        return {k: v.to(device) for k, v in train_data[name].collate(indices, pad_id).items()}

    while state["epoch"] < config.epochs:
        epoch = state["epoch"]
        plan = plan_epoch(config.schedule, {n: len(s) for n, s in streams.items()}, config.seed, epoch,
                          config.temperature)
        net.train()
        for i in range(state["step_in_epoch"], len(plan)):
            batches = [(name, next_batch(name)) for name in plan[i]]  # round robin: one task; loss_sum: all
            step_losses = optimisation_step(net, model, optimizer, scaler, batches, device.type, dtype,
                                            config.grad_clip, world)
            step += 1
            state["step_in_epoch"] = i + 1
            for name, value in step_losses.items():
                sums = state["losses"].setdefault(name, [0.0, 0])
                sums[0], sums[1] = sums[0] + value, sums[1] + 1
            if progress is not None:
                progress.update(1)
                progress.set_postfix(epoch=epoch, task=",".join(plan[i]), loss=f"{sum(step_losses.values()):.4f}")
            if on_step is not None and rank == 0:
                on_step(step, step_losses)
            # checkpoint
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                checkpoint()
            if config.max_steps and step >= config.max_steps:
                if not (config.checkpoint_every and step % config.checkpoint_every == 0):
                    checkpoint()
                if progress is not None:
                    progress.close()
                return _result(out_dir, state, step, start_step, finished=False)

        # evaluation: every task's test split, best epoch by the mean of primary metrics
        metrics = {name: evaluate_task(model, data, device, config.eval_batch_size, pad_id, dtype)
                   for name, data in eval_data.items()}
        score = overall_score(tasks, metrics)
        train_loss = {n: s[0] / max(s[1], 1) for n, s in state["losses"].items()}
        state["history"].append({"epoch": epoch, "score": score, "metrics": metrics, "train_loss": train_loss,
                                 "step": step})
        if rank == 0 and (state["best"] is None or score > state["best"]["score"]):
            state["best"] = {"epoch": epoch, "score": score}
            save_model(model, tokenizer, out_dir / "model", meta)
        if on_epoch is not None and rank == 0:
            on_epoch(epoch, metrics)
        state["epoch"], state["step_in_epoch"], state["losses"] = epoch + 1, 0, {}
        if rank == 0:
            (out_dir / "metrics.json").write_text(json.dumps(state["history"], indent=2) + "\n")
        checkpoint()

    if progress is not None:
        progress.close()
    return _result(out_dir, state, step, start_step, finished=True)


def _result(out_dir: Path, state: dict[str, Any], step: int, start_step: int, finished: bool) -> TrainResult:
    best = state["best"] or {"epoch": -1}
    return TrainResult(out_dir, out_dir / "model", state["history"], best["epoch"], step, finished, start_step)
