"""The training loop: every schedule, single-task fine-tuning, AMP, checkpoints, resume and DDP, in one place.

Run under ``torchrun --nproc_per_node N`` for data parallelism: every rank plans the same task for every step
(schedules are seeded), takes its share of each global batch, and DDP averages the gradients.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from mtclin.data import IGNORE_INDEX
from mtclin.evaluate.run import evaluate_task, overall_score
from mtclin.evaluate.saved import evaluate_saved_model
from mtclin.model.io import ModelMeta, save_model
from mtclin.run_dirs import as_saved
from mtclin.tasks import primary_metric_for
from mtclin.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from mtclin.train.config import TrainConfig, selection_splits
from mtclin.train.progress import ProgressReporter
from mtclin.train.session import Session, StepForward, seeded_share, set_up

__all__ = ["TrainResult", "optimisation_step", "seeded_share", "train"]

StepHook = Callable[[int, dict[str, float]], None]  # (global step, {task: loss})
EpochHook = Callable[[int, dict[str, dict[str, Any]]], None]  # (epoch, {task: metrics on the selection split})


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path  # the selected epoch's model
    history: list[dict[str, Any]]  # per epoch: {"epoch", "split", "score", "metrics": {task: {...}}, "train_loss",
    #                                "step"}; metrics are on the selection split (dev, or test for "paper")
    best_epoch: int
    steps: int
    finished: bool  # False when stopped by max_steps before the last epoch
    resumed_from_step: int = 0  # the checkpoint's step this call started from (0: a fresh start)
    test: dict[str, Any] | None = None  # {"metrics": {task: {...}}, "score"}: the selected model on test, once
    stopped_early: bool = False  # True when patience ended training before config.epochs
    selection: str = "dev"
    train_seconds: float = 0.0  # wall time in the loop (training and per-epoch evaluation), summed over resumes


def labelled(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """How many labels a batch's loss is the mean of: every head averages over its labels other than IGNORE_INDEX
    (tokens, span candidates, entities, entity pairs; one per row for pair tasks)."""
    return (batch["labels"] != IGNORE_INDEX).sum()


def rank_weights(losses: list[torch.Tensor], counts: list[torch.Tensor], world: int
                 ) -> tuple[torch.Tensor, list[float]]:
    """Per task, the factor that turns this rank's mean loss into its share of the global batch's mean, and the
    global mean losses (for logging). DDP averages gradients over ranks, so a rank's loss is weighted by
    ``world * its labels / the global batch's labels``: ranks holding other numbers of tokens, entities or
    candidate pairs (or none) then add up to the gradient of one process's mean over the whole batch."""
    local = torch.stack([torch.stack([c.float(), loss.detach().float() * c]) for loss, c in zip(losses, counts)])
    summed = local.clone()  # (tasks, 2): labels, loss x labels
    dist.all_reduce(summed)
    total = summed[:, 0].clamp(min=1)  # a global batch without labels (no candidate pair anywhere) has loss 0
    return world * local[:, 0] / total, (summed[:, 1] / total).tolist()


def optimisation_step(net: torch.nn.Module, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                      scaler: torch.amp.GradScaler | None, batches: list[tuple[str, dict[str, torch.Tensor]]],
                      device_type: str, dtype: torch.dtype | None, grad_clip: float, world: int = 1
                      ) -> dict[str, float]:
    """One step: forward each task's batch (``net``: :class:`StepForward` of ``model`` or its DDP wrapper; a bare
    model is wrapped), sum the losses, one backward, clip, update. Returns each task's loss (under DDP: the mean
    over the global batch)."""
    # forward backward update: one batch of each task of this step, losses summed
    optimizer.zero_grad(set_to_none=True)
    forward = net if isinstance(net, (StepForward, DistributedDataParallel)) else StepForward(net)
    with torch.autocast(device_type, dtype=dtype) if dtype else nullcontext():
        losses = forward(batches)
    if world > 1:  # each rank holds a share of every batch: weigh it by its labels (rank_weights)
        weights, logged = rank_weights(losses, [labelled(b) for _, b in batches], world)
        total = sum(loss * w for loss, w in zip(losses, weights))
    else:
        total, logged = sum(losses[1:], losses[0]), [loss.item() for loss in losses]
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
    return {name: value for (name, _), value in zip(batches, logged)}


def fresh_state() -> dict[str, Any]:
    return {"epoch": 0, "step_in_epoch": 0, "history": [], "best": None, "losses": {}, "step": 0,
            "stopped_early": False, "test": None, "train_seconds": 0.0}


def restore(s: Session, ckpt_dir: Path) -> dict[str, Any]:
    """The loop state of the latest checkpoint (model, optimiser, RNG and stream positions restored), or a fresh
    one when there is none."""
    found = latest_checkpoint(ckpt_dir)
    if found is None:
        return fresh_state()
    state = fresh_state() | load_checkpoint(found, s.model, s.optimizer, s.scaler, s.device)
    changed = config_changes(state.get("config", {}), s.config)
    if changed:
        raise ValueError(f"{found}: this checkpoint was written by another configuration (differs in "
                         f"{', '.join(changed)}); train into another output directory, or start over with "
                         "--no-resume (flows: fresh=True)")
    for name, position in state["streams"].items():
        s.streams[name].restore(position)
    # decided again under this run's patience and epochs: a run stopped early continues when given more of either
    state["stopped_early"] = patience_ran_out(state, s.config)
    return state


# settings that may differ between a run and its resumption: where it writes, how it reports, when it stops
RESUMABLE_CHANGES = ("output_dir", "progress", "log_every_steps", "log_every_seconds", "epochs", "patience",
                     "max_steps", "checkpoint_every", "keep_checkpoints", "device", "eval_batch_size")


def config_changes(saved: dict[str, Any], config: TrainConfig) -> list[str]:
    """Settings of ``config`` that differ from a checkpoint's ``saved`` config (a setting the checkpoint predates
    counts as its default)."""
    defaults, current = TrainConfig().to_dict(), config.to_dict()
    return sorted(k for k, v in current.items()
                  if k not in RESUMABLE_CHANGES and as_saved(saved.get(k, defaults[k])) != as_saved(v))


def checkpoint(s: Session, ckpt_dir: Path, state: dict[str, Any]) -> None:
    clock(state)
    if s.rank == 0:
        saved = {k: v for k, v in state.items() if k != "_clock"}
        save_checkpoint(ckpt_dir, state["step"], s.model, s.optimizer, s.scaler,
                        saved | {"streams": {n: st.state() for n, st in s.streams.items()},
                                 "config": s.config.to_dict()}, keep=s.config.keep_checkpoints)
    if s.world > 1:
        dist.barrier()


def clock(state: dict[str, Any]) -> None:
    """Add the time since the last call (or the loop's start) to ``train_seconds``: a resumed run's total counts
    every invocation's share, not only the last one's."""
    now = time.perf_counter()
    state["train_seconds"] = state.get("train_seconds", 0.0) + now - state.pop("_clock", now)
    state["_clock"] = now


def epoch_summary(record: dict[str, Any], best_epoch: int) -> str:
    """One progress line per evaluated epoch: each task's primary metric on the selection split, the mean that
    selects, and the best epoch so far (names and numbers only)."""
    primary = ", ".join(f"{task} {values[primary_metric_for(task)]:.3f}" for task, values in record["metrics"].items())
    return (f"epoch {record['epoch']} ({record['split']}): {primary}; score {record['score']:.4f}, "
            f"best epoch {best_epoch}")


def patience_ran_out(state: dict[str, Any], config: TrainConfig) -> bool:
    """The last evaluated epoch is ``patience`` epochs past the best one, with epochs of the budget left."""
    if not config.patience or state["best"] is None:
        return False
    return state["epoch"] - 1 - state["best"]["epoch"] >= config.patience and state["epoch"] < config.epochs


def end_epoch(s: Session, state: dict[str, Any], on_epoch: EpochHook | None) -> None:
    """Evaluate on the selection split, keep the model if it is the best so far, decide on early stopping."""
    config, epoch = s.config, state["epoch"]
    # evaluation: every task on the selection split; best epoch by the mean of primary metrics
    metrics = {name: evaluate_task(s.model, data, s.device, config.eval_batch_size, s.tokenizer.pad_token_id,
                                   s.dtype, tune_threshold=config.tune_span_threshold)
               for name, data in s.select_data.items()}
    score = overall_score(s.tasks, metrics)
    train_loss = {n: v[0] / max(v[1], 1) for n, v in state["losses"].items()}
    state["history"].append({"epoch": epoch, "split": selection_splits(config.selection)[1], "score": score,
                             "metrics": metrics, "train_loss": train_loss, "step": state["step"]})
    # select
    if state["best"] is None or score > state["best"]["score"]:
        state["best"] = {"epoch": epoch, "score": score, "step": state["step"]}
        s.meta = with_span_thresholds(s.meta, metrics)
        if s.rank == 0:
            save_model(s.model, s.tokenizer, s.out_dir / "model", s.meta)
    if on_epoch is not None and s.rank == 0:
        on_epoch(epoch, metrics)
    state["epoch"], state["step_in_epoch"], state["losses"] = epoch + 1, 0, {}
    state["stopped_early"] = patience_ran_out(state, config)
    if s.rank == 0:
        (s.out_dir / "metrics.json").write_text(json.dumps(state["history"], indent=2) + "\n")


def with_span_thresholds(meta: ModelMeta, metrics: dict[str, dict[str, Any]]) -> ModelMeta:
    """``meta`` with each span task's threshold set to the one it was scored with (tuned on the selection split),
    so the saved model decodes as it was selected."""
    tasks = tuple(replace(t, span_threshold=metrics[t.name]["threshold"]) if t.is_span and t.name in metrics else t
                  for t in meta.tasks)
    return replace(meta, tasks=tasks)


def score_test(s: Session, state: dict[str, Any]) -> dict[str, Any]:
    """The selected model's test metrics, scored once from the saved model directory (the artifact that gets
    registered). ``paper`` selection chose the epoch on test: its metrics are that epoch's. Carried tasks (init
    with keep_heads) are scored before and after: ``retention`` says what training the others cost them."""
    config = s.config
    if config.selection == "paper":
        best = next(h for h in state["history"] if h["epoch"] == state["best"]["epoch"])
        out = {"metrics": best["metrics"], "score": best["score"]}
    else:
        out = evaluate_saved_model(s.out_dir / "model", Path(config.processed_dir), config.corpora,
                                   config.limit_eval, config.eval_batch_size, str(s.device), split="test")
    carried = [t.name for t in s.carried if (Path(config.processed_dir) / t.name / "test.parquet").is_file()]
    if carried and s.init_dir is not None:
        scores = {when: evaluate_saved_model(where, Path(config.processed_dir), carried, config.limit_eval,
                                             config.eval_batch_size, str(s.device))["metrics"]
                  for when, where in (("before", s.init_dir), ("after", s.out_dir / "model"))}
        out["retention"] = {}
        for name in carried:
            metric = primary_metric_for(name)
            before, after = scores["before"][name][metric], scores["after"][name][metric]
            out["retention"][name] = {"metric": metric, "before": before, "after": after, "delta": after - before}
    return out


def train(config: TrainConfig, on_step: StepHook | None = None, on_epoch: EpochHook | None = None,
          resume: bool = True, log: Callable[[str], None] | None = None, init_dir: Path | None = None
          ) -> TrainResult:
    """Train ``config.corpora``' tasks jointly (one corpus: single-task fine-tuning). After each epoch every task
    is scored on the selection split (``dev``; ``test`` for ``selection="paper"``) and the best epoch's model is
    kept (mean of the tasks' primary metrics); ``patience`` epochs without a better score stop training. The kept
    model is then scored on test once. Resumes from ``output_dir/checkpoints`` when a checkpoint exists and
    ``resume``. ``log``: a sink for progress lines (every ``log_every_steps`` steps and at least every
    ``log_every_seconds``). ``init_dir``: ``config.init`` fetched to a directory (see :func:`set_up`)."""
    s = set_up(config, init_dir)
    ckpt_dir = s.out_dir / "checkpoints"
    state = restore(s, ckpt_dir) if resume else fresh_state()
    state["_clock"] = time.perf_counter()  # the loop's clock (see clock()); never saved
    start_step = state["step"]
    s.out_dir.mkdir(parents=True, exist_ok=True)
    if s.rank == 0:
        (s.out_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    if config.max_steps and state["step"] >= config.max_steps:  # re-running a finished max_steps run changes nothing
        return _result(s, state, start_step, finished=False)
    bar = None
    if config.progress and s.rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(desc="train", initial=state["step"], dynamic_ncols=True)
    steps_per_epoch = len(s.plan(0))
    reporter = None
    if log is not None and s.rank == 0:
        total = config.max_steps or steps_per_epoch * config.epochs
        reporter = ProgressReporter(log, total, config.log_every_steps, config.log_every_seconds)
        reporter.start(state["step"])

    while state["epoch"] < config.epochs and not state["stopped_early"]:
        epoch, plan = state["epoch"], s.plan(state["epoch"])
        s.net.train()
        for i in range(state["step_in_epoch"], len(plan)):
            # forward backward update
            batches = [(name, s.next_batch(name)) for name in plan[i]]  # round robin: one task; loss_sum: all
            losses = optimisation_step(s.net, s.model, s.optimizer, s.scaler, batches, s.device.type, s.dtype,
                                       config.grad_clip, s.world)
            state["step"], state["step_in_epoch"] = state["step"] + 1, i + 1
            for name, value in losses.items():
                sums = state["losses"].setdefault(name, [0.0, 0])
                sums[0], sums[1] = sums[0] + value, sums[1] + 1
            # logging
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch, task=",".join(plan[i]), loss=f"{sum(losses.values()):.4f}")
            if reporter is not None:
                reporter.step(state["step"], epoch, plan[i], losses,
                              sum(int(b["input_ids"].shape[0]) for _, b in batches) * s.world)
            if on_step is not None and s.rank == 0:
                on_step(state["step"], losses)
            # checkpoint
            periodic = bool(config.checkpoint_every) and state["step"] % config.checkpoint_every == 0
            if periodic:
                checkpoint(s, ckpt_dir, state)
            if config.max_steps and state["step"] >= config.max_steps:
                if not periodic:
                    checkpoint(s, ckpt_dir, state)
                if bar is not None:
                    bar.close()
                return _result(s, state, start_step, finished=False)
        # evaluation, selection, early stopping
        end_epoch(s, state, on_epoch)
        if log is not None and s.rank == 0:
            log(epoch_summary(state["history"][-1], state["best"]["epoch"]))
        if state["epoch"] >= config.epochs or state["stopped_early"]:
            state["test"] = score_test(s, state) if s.rank == 0 else None
            if s.rank == 0:
                (s.out_dir / "test_metrics.json").write_text(json.dumps(state["test"], indent=2) + "\n")
        checkpoint(s, ckpt_dir, state)

    if bar is not None:
        bar.close()
    if log is not None and state["stopped_early"]:
        log(f"stopped early after epoch {state['epoch'] - 1}: no better {selection_splits(config.selection)[1]} score for "
            f"{config.patience} epochs (best epoch {state['best']['epoch']})")
    return _result(s, state, start_step, finished=True)


def _result(s: Session, state: dict[str, Any], start_step: int, finished: bool) -> TrainResult:
    clock(state)
    best = state["best"] or {"epoch": -1}
    return TrainResult(s.out_dir, s.out_dir / "model", state["history"], best["epoch"], state["step"], finished,
                       start_step, state.get("test"), bool(state.get("stopped_early")), s.config.selection,
                       state["train_seconds"])
