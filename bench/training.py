"""Training: dynamic padding against padding to 512, round robin against loss summation as tasks grow, and what a
span NER head costs over a BIO head.

    python -m bench.training [--device cpu|cuda] [--part padding|schedules|heads|all] [--quick]
                             [--ner-head bio|span] [--span-width K]

(a) padding: the same sequences in the same length-bucketed batches (``LengthBucketSampler``, as the training
loop draws them), the same model and the same optimizer steps, collated two ways: ``dynamic`` pads each batch to
its longest sequence (``collate_ner``), ``pad512`` pads every sequence to 512 subwords (the paper's setup). Lengths
follow a clinical sentence distribution: log-normal with a median of 20 subwords, capped at 512. Dropout is off so
that the two runs' per-step losses can be compared: padding is masked, so they must agree to float rounding.
``dynamic_random`` (speed only) pads to the batch's longest without length bucketing: what bucketing adds.

(b) schedules: one training step as the loop runs it (``mtclin/train/loop.py``: zero_grad; forward of each task
of the step; losses summed; one backward; clip; AdamW step) for the first 1, 2, 4, 8 tasks, NER tasks first.
Round robin steps through one task's batch at a time; loss summation takes one batch of every task per step. Each
task's batch has a fixed shape (NER: 25 x 128, pairs: 40 x 64) so that only the number of tasks changes.
``--ner-head span`` trains the NER tasks with span heads instead (round robin still holds one task's batch at a
time: a span batch is larger, not added to the others').

(c) heads: the same NER batches (25 x 128, as in (b)) through one training step with a BIO head and with a span head
of maximum width ``--span-width`` (default 8 words): step time, peak memory, and the candidate spans per window the
span head scores (``mtclin.data.encode_spans``; about words x width).

Every configuration runs in a fresh process, so its peak memory (CPU: peak RSS; CUDA: max_memory_allocated) is
its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Sequence

from bench.common import (CannotMeasure, Figure, check_device, main_guard, memory_now_mib, now, peak_mib, report,
                          reset_peak, run_worker, write_result)
from mtclin.corpora.registry import CORPORA, corpus_info

NER_TASK = "i2b2-2010"  # the task of the padding runs (any NER head would do)
# (b) NER tasks first, so that each doubling adds tasks with the same batch shape until the pair tasks come in
# (from the corpus declarations: NER_TASK, the other NER corpora, then the pair corpora, each in the paper's order)
TASK_ORDER = tuple(sorted(CORPORA, key=lambda c: (corpus_info(c).kind != "ner", c != NER_TASK)))
FULL_WIDTH = 512  # the paper's sequence length
TOKEN_IDS = (1000, 29000)  # random subword ids from the ordinary vocabulary (not specials or unused slots)


# --- synthetic batches ------------------------------------------------------------------------------------------

def sample_lengths(n: int, median: float, sigma: float, cap: int, seed: int) -> list[int]:
    """Sequence lengths in subwords including [CLS]/[SEP]: log-normal around ``median``, within [3, cap]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lengths = np.rint(rng.lognormal(np.log(median), sigma, n)).astype(int)
    return np.clip(lengths, 3, cap).tolist()


def ner_items(lengths: Sequence[int], num_tags: int, tokenizer: Any, seed: int) -> list[Any]:
    """Labelled NER windows of the given lengths: random subwords, 3 in 4 a word's first subword (labelled)."""
    import numpy as np

    from mtclin.data import IGNORE_INDEX
    from mtclin.data.encode_ner import NerWindow

    rng = np.random.default_rng(seed)
    items = []
    for k, n in enumerate(lengths):
        ids = rng.integers(*TOKEN_IDS, n)
        ids[0], ids[-1] = tokenizer.cls_token_id, tokenizer.sep_token_id
        first = rng.random(n) < 0.75
        first[0] = first[-1] = False
        labels = np.where(first, rng.integers(0, num_tags, n), IGNORE_INDEX)
        word_index = np.where(first, np.cumsum(first) - 1, -1)
        items.append(NerWindow(ids.astype(np.int64), word_index.astype(np.int64), labels.astype(np.int64), k))
    return items


def pair_items(n: int, length: int, kind: str, num_classes: int, tokenizer: Any, seed: int) -> list[Any]:
    """Labelled pairs of ``length`` tokens: [CLS] a [SEP] b [SEP] with a and b of about equal length."""
    import numpy as np

    from mtclin.data.encode_pairs import PairExample

    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        ids = rng.integers(*TOKEN_IDS, length)
        split = length // 2
        ids[0], ids[split], ids[-1] = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.sep_token_id
        types = (np.arange(length) > split).astype(np.int64)
        label = float(rng.uniform(0, 5)) if kind == "sts" else int(rng.integers(0, num_classes))
        items.append(PairExample(ids.astype(np.int64), types, label, k))
    return items


def pad_to(batch: dict[str, Any], width: int, pad_token_id: int) -> dict[str, Any]:
    """A collated NER batch padded on the right to ``width`` tokens (mask 0, labels IGNORE_INDEX)."""
    from torch.nn import functional as F

    from mtclin.data import IGNORE_INDEX

    extra = width - batch["input_ids"].shape[1]
    fill = {"input_ids": pad_token_id, "attention_mask": 0, "token_type_ids": 0, "labels": IGNORE_INDEX}
    return {k: F.pad(v, (0, extra), value=fill[k]) for k, v in batch.items()}


# --- the training step ------------------------------------------------------------------------------------------

def span_items(items: Sequence[Any], seed: int) -> list[Any]:
    """The windows as a span task's: no BIO labels, a gold entity of 1-3 words about every fifth word."""
    from dataclasses import replace

    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for item in items:
        n = int(item.word_index.max()) + 1 if (item.word_index >= 0).any() else 0
        starts = np.sort(rng.choice(n, size=min(n, max(1, n // 5)), replace=False)) if n else np.zeros(0, int)
        ends = np.minimum(starts + rng.integers(0, 3, len(starts)), max(n - 1, 0))
        spans = np.stack([starts, ends, rng.integers(1, 4, len(starts))], axis=1).astype(np.int64)
        out.append(replace(item, labels=None, spans=spans))
    return out


def collate_task(spec: Any, items: Sequence[Any], pad_token_id: int) -> dict[str, Any]:
    """A NER batch as the task's head takes it (BIO tags, or span candidates)."""
    from mtclin.data.collate import collate_ner, collate_spans

    if spec.is_span:
        return collate_spans(items, pad_token_id, spec.max_span_width)
    return collate_ner(items, pad_token_id)


def make_model(tasks: Sequence[str], dropout: float, device: str, seed: int, ner_head: str = "bio",
               span_width: int = 8):
    """A model of the given tasks on the default encoder, AdamW as the loop builds it (constant lr 5e-5);
    ``ner_head``: the head of every NER task (span heads of maximum width ``span_width``)."""
    from dataclasses import replace

    import torch

    from mtclin.model.io import DEFAULT_ENCODER, build_model
    from mtclin.tasks import task_for_corpus
    from mtclin.train.config import TrainConfig

    config = TrainConfig()
    torch.manual_seed(seed)
    specs = [task_for_corpus(t, ner_head=ner_head if corpus_info(t).kind == "ner" else None) for t in tasks]
    specs = [replace(s, max_span_width=span_width) if s.is_span else s for s in specs]
    model, tokenizer = build_model(DEFAULT_ENCODER, specs, dropout)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    return model, tokenizer, optimizer, config.grad_clip, {s.name: s for s in specs}


def train_step(model, optimizer, batches: Sequence[tuple[str, dict]], grad_clip: float) -> float:
    """One optimisation step of the training loop itself (``mtclin.train.loop.optimisation_step``, no AMP so the
    two padding modes' losses compare exactly): the summed loss."""
    from mtclin.train.loop import optimisation_step

    return sum(optimisation_step(model, model, optimizer, None, list(batches), "cpu", None, grad_clip).values())


# --- workers ----------------------------------------------------------------------------------------------------

def padding_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """(a) one collation mode over every batch: per-step losses and times, peak memory."""
    import torch

    from mtclin.data.collate import LengthBucketSampler, collate_ner

    device, mode = cfg["device"], cfg["mode"]
    model, tokenizer, optimizer, grad_clip, specs = make_model([NER_TASK], 0.0, device, cfg["seed"])
    lengths = sample_lengths(cfg["sequences"], cfg["median"], cfg["sigma"], FULL_WIDTH, cfg["seed"])
    items = ner_items(lengths, specs[NER_TASK].num_outputs, tokenizer, cfg["seed"])
    # the loop's length-bucketed batches; dynamic_random: the same shuffle, no sorting by length
    sampler = LengthBucketSampler(lengths, cfg["batch_size"], shuffle=True, seed=cfg["seed"],
                                  bucket_size_multiplier=1 if mode == "dynamic_random" else 100)
    plan = sampler.batches(0)
    pad_id = tokenizer.pad_token_id

    def batch_of(indices):
        batch = collate_ner([items[i] for i in indices], pad_id)
        if mode == "pad512":
            batch = pad_to(batch, FULL_WIDTH, pad_id)
        return {k: v.to(device) for k, v in batch.items()}

    # warm-up, not timed: the same first batch in both modes (padding is masked, so the weights stay equal)
    train_step(model, optimizer, [(NER_TASK, batch_of(plan[0]))], grad_clip)
    base = memory_now_mib(device)
    reset_peak(device)
    losses, times, padded = [], [], 0
    for indices in plan:
        t0 = now(device)
        batch = batch_of(indices)  # collation counts: it is part of what each mode costs
        losses.append(train_step(model, optimizer, [(NER_TASK, batch)], grad_clip))
        times.append(now(device) - t0)
        padded += batch["input_ids"].numel()
    return {"config": cfg, "losses": losses, "step_s": times, "total_s": sum(times), "steps": len(plan),
            "sequences": len(items), "real_tokens": int(sum(lengths)), "padded_tokens": padded,
            "peak_mib": peak_mib(device), "base_mib": base, "threads": torch.get_num_threads()}


def schedule_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """(b) one (schedule, number of tasks): step and round times, peak memory."""
    import torch

    from mtclin.data.collate import collate_pairs
    from mtclin.train.schedules import plan_epoch

    device, schedule, tasks = cfg["device"], cfg["schedule"], TASK_ORDER[:cfg["tasks"]]
    model, tokenizer, optimizer, grad_clip, specs = make_model(tasks, 0.1, device, cfg["seed"],
                                                               cfg.get("ner_head", "bio"), cfg.get("span_width", 8))
    batches = {}
    for k, name in enumerate(tasks):
        spec = specs[name]
        if spec.kind == "ner":
            items = ner_items([cfg["ner_length"]] * cfg["ner_batch"], spec.num_outputs, tokenizer, cfg["seed"] + k)
            if spec.is_span:
                items = span_items(items, cfg["seed"] + k)
            batch = collate_task(spec, items, tokenizer.pad_token_id)
        else:
            items = pair_items(cfg["pair_batch"], cfg["pair_length"], spec.kind, spec.num_outputs, tokenizer,
                               cfg["seed"] + k)
            batch = collate_pairs(items, tokenizer.pad_token_id)
        batches[name] = {k2: v.to(device) for k2, v in batch.items()}
    rounds = cfg["rounds"]  # a round: one batch of every task (round robin: len(tasks) steps; loss sum: one)
    plan = plan_epoch(schedule, {name: rounds for name in tasks}, cfg["seed"], 0)
    per_round = len(plan) // rounds
    base = memory_now_mib(device)
    reset_peak(device)
    times = []
    for i, step in enumerate(plan):
        t0 = now(device)
        train_step(model, optimizer, [(name, batches[name]) for name in step], grad_clip)
        if i >= per_round:  # the first round warms up (and allocates AdamW's state)
            times.append(now(device) - t0)
    timed_rounds = rounds - 1
    return {"config": cfg, "steps_timed": len(times), "step_s": sum(times) / len(times),
            "round_s": sum(times) / timed_rounds, "peak_mib": peak_mib(device), "base_mib": base,
            "threads": torch.get_num_threads()}


def heads_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """(c) one NER head kind on fixed NER batches: step time, peak memory, candidate spans per window."""
    import torch

    device = cfg["device"]
    model, tokenizer, optimizer, grad_clip, specs = make_model([NER_TASK], 0.1, device, cfg["seed"],
                                                               cfg["ner_head"], cfg["span_width"])
    spec = specs[NER_TASK]
    items = ner_items([cfg["ner_length"]] * cfg["ner_batch"], spec.num_outputs, tokenizer, cfg["seed"])
    if spec.is_span:
        items = span_items(items, cfg["seed"])
    batch = {k: v.to(device) for k, v in collate_task(spec, items, tokenizer.pad_token_id).items()}
    train_step(model, optimizer, [(NER_TASK, batch)], grad_clip)  # warm-up: allocates AdamW's state
    base = memory_now_mib(device)
    reset_peak(device)
    times = []
    for _ in range(cfg["rounds"] - 1):
        t0 = now(device)
        train_step(model, optimizer, [(NER_TASK, batch)], grad_clip)
        times.append(now(device) - t0)
    candidates = int(batch["span_widths"].shape[1]) if spec.is_span else 0
    return {"config": cfg, "step_s": sum(times) / len(times), "peak_mib": peak_mib(device), "base_mib": base,
            "candidates_per_window": candidates, "threads": torch.get_num_threads()}


def heads_figures(runs: dict[str, dict[str, Any]]) -> list[Figure]:
    figs = []
    for head, r in runs.items():
        figs += [Figure(f"heads.{head}.step_time", r["step_s"], "s"),
                 Figure(f"heads.{head}.peak_memory_above_base", r["peak_mib"] - r["base_mib"], "MiB")]
    bio, span = runs["bio"], runs["span"]
    figs += [Figure("heads.span.candidates_per_window", span["candidates_per_window"], "spans"),
             Figure("heads.span_over_bio.step_time", span["step_s"] / bio["step_s"], "x"),
             Figure("heads.span_over_bio.peak_memory_above_base",
                    (span["peak_mib"] - span["base_mib"]) / max(bio["peak_mib"] - bio["base_mib"], 1e-9), "x")]
    return figs


# --- main -------------------------------------------------------------------------------------------------------

def padding_figures(runs: dict[str, dict[str, Any]], tolerance: float) -> tuple[list[Figure], bool]:
    dyn, pad, rnd = runs["dynamic"], runs["pad512"], runs["dynamic_random"]
    diff = max(abs(a - b) for a, b in zip(dyn["losses"], pad["losses"]))
    figs = [Figure(f"padding.{mode}.sequences_per_s", r["sequences"] / r["total_s"], "seq/s")
            for mode, r in runs.items()]
    figs += [
        Figure("padding.speedup_dynamic_vs_pad512", pad["total_s"] / dyn["total_s"], "x"),
        Figure("padding.speedup_dynamic_vs_unbucketed", rnd["total_s"] / dyn["total_s"], "x"),
    ]
    figs += [Figure(f"padding.{mode}.peak_memory", r["peak_mib"], "MiB") for mode, r in runs.items()]
    figs += [Figure(f"padding.{mode}.real_token_fraction", r["real_tokens"] / r["padded_tokens"], "fraction")
             for mode, r in runs.items()]
    figs += [
        Figure("padding.steps", dyn["steps"], "steps"),
        Figure("padding.mean_length", dyn["real_tokens"] / dyn["sequences"], "subwords"),
        Figure("padding.loss_max_abs_diff", diff, "nats"),
        Figure("padding.losses_match", int(diff <= tolerance), "bool"),
    ]
    return figs, diff <= tolerance


def schedule_figures(runs: dict[tuple[str, int], dict[str, Any]], counts: Sequence[int]) -> list[Figure]:
    figs = []
    for (schedule, k), r in runs.items():
        prefix = f"schedule.{schedule}.tasks{k}"
        figs += [Figure(f"{prefix}.step_time", r["step_s"], "s"),
                 Figure(f"{prefix}.round_time", r["round_s"], "s"),
                 Figure(f"{prefix}.peak_memory", r["peak_mib"], "MiB"),
                 Figure(f"{prefix}.peak_memory_above_base", r["peak_mib"] - r["base_mib"], "MiB")]
    lo, hi = min(counts), max(counts)
    if lo != hi:
        for schedule in ("round_robin", "loss_sum"):
            a, b = runs[(schedule, lo)], runs[(schedule, hi)]
            figs.append(Figure(f"schedule.{schedule}.peak_memory_growth_{lo}_to_{hi}_tasks",
                               (b["peak_mib"] - b["base_mib"]) / (a["peak_mib"] - a["base_mib"]), "x"))
    return figs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--part", default="all", choices=("padding", "schedules", "heads", "all"))
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute on a CPU")
    parser.add_argument("--sequences", type=int, default=None, help="(a) sequences (default 1000; quick 32)")
    parser.add_argument("--batch-size", type=int, default=None, help="(a) batch size (default 25, the paper's "
                                                                       "NER batch; quick 16)")
    parser.add_argument("--median", type=float, default=20.0, help="(a) median length in subwords")
    parser.add_argument("--sigma", type=float, default=0.9, help="(a) log-normal sigma of the lengths")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="(a) max abs loss difference allowed")
    parser.add_argument("--tasks", default="1,2,4,8", help="(b) task counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=None, help="(b) rounds per configuration, the first one "
                                                                   "untimed (default 4; quick 2)")
    parser.add_argument("--ner-batch", type=int, default=None, help="(b) NER batch (default 25; quick 8)")
    parser.add_argument("--ner-length", type=int, default=None, help="(b) NER length (default 128; quick 64)")
    parser.add_argument("--pair-batch", type=int, default=None, help="(b) pair batch (default 40; quick 8)")
    parser.add_argument("--pair-length", type=int, default=None, help="(b) pair length (default 64; quick 32)")
    parser.add_argument("--ner-head", default="bio", choices=("bio", "span"), help="(b) the NER tasks' head")
    parser.add_argument("--span-width", type=int, default=8, help="(b, c) span heads' maximum width in words")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads per worker (default: torch's "
                        "choice, one per core); 1 is steadier on a machine others are using")
    parser.add_argument("--out", default=None, help="result JSON (default bench/results/training-<device>.json; "
                        "one --part: training-<part>-<device>.json)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        cfg = json.loads(args.worker)
        if cfg.get("threads"):
            import torch

            torch.set_num_threads(cfg["threads"])
        workers = {"padding": padding_worker, "schedules": schedule_worker, "heads": heads_worker}
        report(workers[cfg["part"]](cfg))
        return
    check_device(args.device)

    def pick(value, full, quick):
        return value if value is not None else (quick if args.quick else full)

    settings: dict[str, Any] = {"part": args.part, "quick": args.quick, "device": args.device, "seed": args.seed,
                                "threads": args.threads}
    common = {"device": args.device, "seed": args.seed, "threads": args.threads}
    figures, details, ok = [], {}, True
    started = time.perf_counter()
    if args.part in ("padding", "all"):
        padding = {"sequences": pick(args.sequences, 1000, 32), "batch_size": pick(args.batch_size, 25, 16),
                   "median": args.median, "sigma": args.sigma, "tolerance": args.tolerance}
        settings["padding"] = padding
        runs = {}
        for mode in ("dynamic", "pad512", "dynamic_random"):
            runs[mode] = run_worker("bench.training", common | padding | {"part": "padding", "mode": mode})
            print(f"# padding {mode}: {runs[mode]['total_s']:.2f}s for {runs[mode]['steps']} steps, peak "
                  f"{runs[mode]['peak_mib']:.0f} MiB", file=sys.stderr, flush=True)
        details["padding"] = runs
        figs, ok = padding_figures(runs, args.tolerance)
        figures += figs
    if args.part in ("schedules", "all"):
        counts = [int(k) for k in args.tasks.split(",")]
        if not counts or min(counts) < 1 or max(counts) > len(TASK_ORDER):
            raise CannotMeasure(f"--tasks {args.tasks}: counts between 1 and {len(TASK_ORDER)}")
        schedules = {"rounds": pick(args.rounds, 4, 2), "ner_batch": pick(args.ner_batch, 25, 8),
                     "ner_length": pick(args.ner_length, 128, 64), "pair_batch": pick(args.pair_batch, 40, 8),
                     "pair_length": pick(args.pair_length, 64, 32), "task_counts": counts,
                     "ner_head": args.ner_head, "span_width": args.span_width}
        if schedules["rounds"] < 2:
            raise CannotMeasure("--rounds must be >= 2 (the first round is the untimed warm-up)")
        settings["schedules"] = schedules
        runs = {}
        for schedule in ("round_robin", "loss_sum"):
            for k in counts:
                cfg = common | schedules | {"part": "schedules", "schedule": schedule, "tasks": k}
                runs[(schedule, k)] = run_worker("bench.training", cfg)
                print(f"# {schedule} {k} tasks: step {runs[(schedule, k)]['step_s']:.2f}s, peak "
                      f"{runs[(schedule, k)]['peak_mib']:.0f} MiB", file=sys.stderr, flush=True)
        details["schedules"] = {f"{s}.tasks{k}": r for (s, k), r in runs.items()}
        figures += schedule_figures(runs, counts)
    if args.part in ("heads", "all"):
        heads = {"rounds": pick(args.rounds, 4, 2), "ner_batch": pick(args.ner_batch, 25, 8),
                 "ner_length": pick(args.ner_length, 128, 64), "span_width": args.span_width}
        if heads["rounds"] < 2:
            raise CannotMeasure("--rounds must be >= 2 (the first round is the untimed warm-up)")
        settings["heads"] = heads
        runs = {}
        for head in ("bio", "span"):
            runs[head] = run_worker("bench.training", common | heads | {"part": "heads", "ner_head": head})
            print(f"# {head} head: step {runs[head]['step_s']:.2f}s, peak {runs[head]['peak_mib']:.0f} MiB",
                  file=sys.stderr, flush=True)
        details["heads"] = runs
        figures += heads_figures(runs)
    settings["wall_s"] = time.perf_counter() - started
    # one part alone gets its own file: it must not replace the whole benchmark's results
    write_result("training" if args.part == "all" else f"training-{args.part}", args.device, figures, settings,
                 details, args.out)
    if not ok:
        raise CannotMeasure(f"dynamic padding and pad-to-512 losses differ by more than --tolerance "
                            f"{args.tolerance}: padding is not fully masked somewhere")


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
