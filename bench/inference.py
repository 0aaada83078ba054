"""Inference: all eight tasks' outputs from one multitask model against eight single-task models.

    python -m bench.inference [--device cpu|cuda] [--notes N] [--pairs N] [--batch-sizes 1,32] [--quick]

Workload: N clinical-length notes (1,500-3,000 characters, built from the sample corpora's English NER documents)
and N sentence pairs (the sample n2c2-2019, MedNLI and MedRQE pairs). Multitask: one MultiTaskModel with the
eight tasks; ``Predictor.predict(notes)`` reads all five NER heads off one encoder pass per window and
``predict_pairs(pairs)`` all three pair heads off one pass per pair. Single-task: eight MultiTaskModels with one
task each and their own copy of the encoder (what a user with eight fine-tuned models runs); every NER model
encodes every note and every pair model every pair, through the same Predictor code. The heads are randomly
initialised (speed does not depend on the weights) but shared between the two setups, so their outputs must be
identical: ``outputs_identical`` checks that the comparison is like for like.

Each (setup, batch size) runs in a fresh process so its peak memory is its own. A profile of the multitask
Predictor splits its time into encoder forward and everything else (tokenization and windowing, collation,
heads and copies, span decoding).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from bench.common import (CannotMeasure, Figure, check_device, main_guard, memory_now_mib, now, peak_mib, report,
                          reset_peak, run_worker, write_result)
from mtclin.corpora.registry import CORPORA, corpus_info

# from the corpus declarations, in the paper's order: the English NER corpora (quaero-2014 is French) and the pairs
NER_CORPORA_EN = tuple(c for c in CORPORA if corpus_info(c).kind == "ner" and corpus_info(c).language == "en")
PAIR_CORPORA = tuple(c for c in CORPORA if corpus_info(c).kind != "ner")
NOTE_CHARS = (1500, 3000)
# Added to every random NER head's "O" logit so that about 9 entities per 100 words come out (clinical notes have
# a few to ~20 per 100 words; unbiased random heads tag nearly every word, which would inflate decoding time)
O_BIAS = 0.5


# --- workload ---------------------------------------------------------------------------------------------------

def make_workload(n_notes: int, n_pairs: int, seed: int = 0) -> tuple[list[str], list[tuple[str, str]]]:
    """``n_notes`` notes of 1,500-3,000 characters (sample NER documents joined, cut at a word boundary) and
    ``n_pairs`` sentence pairs, drawn with a fixed seed."""
    from mtclin.corpora.registry import read_corpus
    from mtclin.corpora.samples import write_samples

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mtclin-bench-") as tmp:
        write_samples(Path(tmp), corpora=NER_CORPORA_EN + PAIR_CORPORA, seed=seed)
        docs, pairs = [], []
        for corpus in NER_CORPORA_EN:
            for split in read_corpus(corpus, Path(tmp) / corpus).splits.values():
                docs.extend(doc.text.strip() for doc in split)
        for corpus in PAIR_CORPORA:
            for split in read_corpus(corpus, Path(tmp) / corpus).splits.values():
                pairs.extend((p.a, p.b) for p in split)
    notes = []
    for _ in range(n_notes):
        target = rng.randint(*NOTE_CHARS)
        text = ""
        while len(text) < target:
            text = f"{text}\n\n{rng.choice(docs)}" if text else rng.choice(docs)
        if len(text) > NOTE_CHARS[1]:
            text = text[:NOTE_CHARS[1]].rsplit(None, 1)[0]
        notes.append(text)
    return notes, [rng.choice(pairs) for _ in range(n_pairs)]


# --- models -----------------------------------------------------------------------------------------------------

def make_predictors(setup: str, device: str, batch_size: int, seed: int) -> list[Any]:
    """``multi``: one Predictor over the eight-task model. ``single``: eight Predictors over one-task models, each
    with its own encoder copy and the multitask model's head for its task (same weights, same outputs)."""
    import torch

    from mtclin.corpora.registry import CORPORA
    from mtclin.inference import Predictor
    from mtclin.model.io import DEFAULT_ENCODER, ModelMeta, build_model
    from mtclin.model.multitask import MultiTaskModel
    from mtclin.tasks import task_for_corpus
    from mtclin.train.config import TrainConfig

    defaults = TrainConfig()
    specs = [task_for_corpus(c) for c in CORPORA]
    torch.manual_seed(seed)  # the same random heads in both setups
    model, tokenizer = build_model(DEFAULT_ENCODER, specs)
    with torch.no_grad():
        for spec in specs:
            if spec.kind == "ner":
                model.heads[spec.name].classifier.bias[0] += O_BIAS

    def meta(tasks):
        return ModelMeta(tuple(tasks), defaults.max_length, defaults.stride, defaults.pair_max_length)

    dev = torch.device(device)
    if setup == "multi":
        return [Predictor(model.to(dev).eval(), tokenizer, meta(specs), dev, batch_size)]
    predictors = []
    for k, spec in enumerate(specs):
        encoder = model.encoder if k == len(specs) - 1 else copy.deepcopy(model.encoder)
        single = MultiTaskModel(encoder, [spec])
        single.heads[spec.name].load_state_dict(model.heads[spec.name].state_dict())
        predictors.append(Predictor(single.to(dev).eval(), tokenizer, meta([spec]), dev, batch_size))
    del model
    return predictors


def run_all(predictors: Sequence[Any], notes: list[str], pairs: list[tuple[str, str]], device: str
            ) -> tuple[float, float, list[Any]]:
    """Every predictor over its inputs (NER models: the notes; pair models: the pairs): (notes seconds, pairs
    seconds, merged outputs per note and per pair)."""
    note_out: list[dict] = [{} for _ in notes]
    pair_out: list[dict] = [{} for _ in pairs]
    t_notes = t_pairs = 0.0
    for p in predictors:
        if p.ner_tasks:
            t0 = now(device)
            for merged, got in zip(note_out, p.predict(notes)):
                merged.update(got)
            t_notes += now(device) - t0
        if p.pair_tasks:
            t0 = now(device)
            for merged, got in zip(pair_out, p.predict_pairs(pairs)):
                merged.update(got)
            t_pairs += now(device) - t0
    return t_notes, t_pairs, [note_out, pair_out]


def fingerprint(outputs: Any) -> str:
    """A hash of the outputs with scores rounded (float noise must not count as a difference)."""
    def rounded(x):
        if isinstance(x, float):
            return round(x, 3)
        if isinstance(x, dict):
            return {k: rounded(v) for k, v in sorted(x.items())}
        if isinstance(x, list):
            return [rounded(v) for v in x]
        return x
    return hashlib.sha256(json.dumps(rounded(outputs), sort_keys=True).encode()).hexdigest()[:16]


# --- profile ----------------------------------------------------------------------------------------------------

@contextmanager
def profiled(predictor: Any, device: str) -> Iterator[dict[str, float]]:
    """Seconds spent per stage while the block runs: ``encoder`` (the encoder's forward, via hooks),
    ``tokenize`` (encode_texts / encode_pairs: word splitting, subword tokenization, windowing), ``collate``,
    ``decode`` (decode_texts: words and BIO spans). The rest of the total is heads, softmax, copies to the host
    and building the output dicts."""
    import mtclin.inference as inference

    spent = {"encoder": 0.0, "tokenize": 0.0, "collate": 0.0, "decode": 0.0}
    stage_of = {"encode_texts": "tokenize", "encode_pairs": "tokenize", "collate_ner": "collate",
                "collate_pairs": "collate", "decode_texts": "decode"}
    originals = {name: getattr(inference, name) for name in stage_of}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = now(device)
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage_of[name]] += now(device) - t0
        return wrapper

    start: list[float] = []
    encoder = predictor.model.encoder
    pre = encoder.register_forward_pre_hook(lambda *_: start.append(now(device)))
    post = encoder.register_forward_hook(lambda *_: spent.__setitem__("encoder", spent["encoder"]
                                                                      + now(device) - start.pop()))
    for name, fn in originals.items():
        setattr(inference, name, timed(name, fn))
    try:
        yield spent
    finally:
        for name, fn in originals.items():
            setattr(inference, name, fn)
        pre.remove()
        post.remove()


def profile(predictor: Any, notes: list[str], pairs: list[tuple[str, str]], device: str) -> dict[str, Any]:
    out = {}
    for what, call, items in (("notes", predictor.predict, notes), ("pairs", predictor.predict_pairs, pairs)):
        with profiled(predictor, device) as spent:
            t0 = now(device)
            call(items)
            total = now(device) - t0
        rest = total - sum(spent.values())
        out[what] = {"total_s": total, **{f"{k}_s": v for k, v in spent.items()}, "other_s": rest,
                     "non_encoder_fraction": 1 - spent["encoder"] / total}
    return out


# --- worker -----------------------------------------------------------------------------------------------------

def worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """One (setup, batch size): build the model(s), warm up, time ``repeats`` runs over the workload (the
    fastest counts: the least disturbed by other processes), peak memory, and (multitask) the profile."""
    import torch

    from mtclin.preprocess.words import word_spans

    device, setup, batch_size = cfg["device"], cfg["setup"], cfg["batch_size"]
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    notes, pairs = make_workload(cfg["notes"], cfg["pairs"], cfg["seed"])
    from transformers import BertModel  # noqa: F401  (the runtime counts in the base, not in the models)

    base_mib = memory_now_mib(device)
    predictors = make_predictors(setup, device, batch_size, cfg["seed"])
    params = sum(p.numel() for pr in predictors for p in pr.model.parameters())
    weights_mib = sum(p.numel() * p.element_size() for pr in predictors for p in pr.model.parameters()) / 2**20
    models_mib = memory_now_mib(device) - base_mib
    # warm-up over every batch shape (allocator, kernel selection), with the first model of each kind
    run_all([next(p for p in predictors if p.ner_tasks), next(p for p in predictors if p.pair_tasks)],
            notes, pairs, device)
    reset_peak(device)
    runs = []
    for _ in range(cfg["repeats"]):
        t_notes, t_pairs, outputs = run_all(predictors, notes, pairs, device)
        runs.append({"notes_s": t_notes, "pairs_s": t_pairs})
    result = {
        "config": cfg,
        "params": params,
        "models_mib": models_mib,  # memory growth while building the model(s)
        "weights_mib": weights_mib,
        "base_mib": base_mib,  # before the model(s): interpreter, torch, tokenizer library, workload
        "peak_mib": peak_mib(device),
        "runs": runs,
        "notes_s": min(r["notes_s"] for r in runs),
        "pairs_s": min(r["pairs_s"] for r in runs),
        "all_s": min(r["notes_s"] + r["pairs_s"] for r in runs),
        "outputs": fingerprint(outputs),
        "entities_per_100_words": 100 * sum(len(v) for note in outputs[0] for v in note.values())
        / sum(len(word_spans(t)) for t in notes) / sum(len(p.ner_tasks) for p in predictors),
        "threads": torch.get_num_threads(),
        "kinds": [t.kind for p in predictors for t in p.meta.tasks],
    }
    from mtclin.data.encode_ner import encode_texts

    p0 = predictors[0]
    result["windows"] = len(encode_texts(notes, p0.tokenizer, p0.meta.max_length, p0.meta.stride)[0])
    if setup == "multi":
        result["profile"] = profile(p0, notes, pairs, device)
    return result


# --- main -------------------------------------------------------------------------------------------------------

def figures_for(batch_size: int, multi: dict[str, Any], single: dict[str, Any], n_notes: int, n_pairs: int
                ) -> list[Figure]:
    b = f"b{batch_size}"
    notes_x = single["notes_s"] / multi["notes_s"]
    pairs_x = single["pairs_s"] / multi["pairs_s"]
    all_x = single["all_s"] / multi["all_s"]
    figs = [
        Figure(f"{b}.multitask.notes_per_s", n_notes / multi["notes_s"], "notes/s"),
        Figure(f"{b}.single_task.notes_per_s", n_notes / single["notes_s"], "notes/s"),
        Figure(f"{b}.notes.speedup", notes_x, "x"),
        Figure(f"{b}.multitask.pairs_per_s", n_pairs / multi["pairs_s"], "pairs/s"),
        Figure(f"{b}.single_task.pairs_per_s", n_pairs / single["pairs_s"], "pairs/s"),
        Figure(f"{b}.pairs.speedup", pairs_x, "x"),
        Figure(f"{b}.all_tasks.speedup", all_x, "x"),
        Figure(f"{b}.multitask.peak_memory", multi["peak_mib"], "MiB"),
        Figure(f"{b}.single_task.peak_memory", single["peak_mib"], "MiB"),
        Figure(f"{b}.memory_ratio", single["peak_mib"] / multi["peak_mib"], "x"),
        Figure(f"{b}.multitask.peak_memory_above_base", multi["peak_mib"] - multi["base_mib"], "MiB"),
        Figure(f"{b}.single_task.peak_memory_above_base", single["peak_mib"] - single["base_mib"], "MiB"),
        Figure(f"{b}.outputs_identical", int(multi["outputs"] == single["outputs"]), "bool"),
    ]
    for what in ("notes", "pairs"):
        prof = multi["profile"][what]
        figs.append(Figure(f"{b}.profile.{what}.non_encoder_fraction", prof["non_encoder_fraction"], "fraction"))
        for stage in ("tokenize", "collate", "decode", "other"):
            if what == "pairs" and stage == "decode":
                continue
            figs.append(Figure(f"{b}.profile.{what}.{stage}_fraction", prof[f"{stage}_s"] / prof["total_s"],
                               "fraction"))
    return figs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--notes", type=int, default=None, help="notes to annotate (default 100; quick 4)")
    parser.add_argument("--pairs", type=int, default=None, help="sentence pairs to score (default 500; quick 32)")
    parser.add_argument("--batch-sizes", default="1,32", help="Predictor batch sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per setup, fastest counts "
                                                                    "(default 3; quick 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads per worker (default: torch's "
                        "choice, one per core); 1 is steadier on a machine others are using")
    parser.add_argument("--quick", action="store_true", help="a smoke run in well under a minute on a CPU")
    parser.add_argument("--out", default=None, help="result JSON (default bench/results/inference-<device>.json)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        report(worker(json.loads(args.worker)))
        return
    check_device(args.device)
    n_notes = args.notes if args.notes is not None else (4 if args.quick else 100)
    n_pairs = args.pairs if args.pairs is not None else (32 if args.quick else 500)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if min(n_notes, n_pairs, repeats) < 1:
        raise CannotMeasure("--notes, --pairs and --repeats must be >= 1")
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    settings = {"notes": n_notes, "pairs": n_pairs, "batch_sizes": batch_sizes, "repeats": repeats,
                "seed": args.seed, "threads": args.threads, "quick": args.quick, "device": args.device}
    figures, details = [], {}
    started = time.perf_counter()
    for bs in batch_sizes:
        got = {}
        for setup in ("multi", "single"):
            cfg = {"device": args.device, "setup": setup, "batch_size": bs, "notes": n_notes, "pairs": n_pairs,
                   "repeats": repeats, "seed": args.seed, "threads": args.threads}
            got[setup] = run_worker("bench.inference", cfg)
            details[f"b{bs}.{setup}"] = got[setup]
            print(f"# b{bs} {setup}: notes {got[setup]['notes_s']:.2f}s pairs {got[setup]['pairs_s']:.2f}s "
                  f"peak {got[setup]['peak_mib']:.0f} MiB", file=sys.stderr, flush=True)
        figures += figures_for(bs, got["multi"], got["single"], n_notes, n_pairs)
    multi, single = details[f"b{batch_sizes[0]}.multi"], details[f"b{batch_sizes[0]}.single"]
    figures += [
        Figure("multitask.parameters", multi["params"], "params"),
        Figure("single_task.parameters", single["params"], "params"),
        Figure("parameter_ratio", single["params"] / multi["params"], "x"),
        Figure("multitask.weights", multi["weights_mib"], "MiB"),
        Figure("single_task.weights", single["weights_mib"], "MiB"),
        # the most the speedups can be: encoder passes saved per input (heads and host work cost the same)
        Figure("notes.speedup_limit", len([s for s in multi["kinds"] if s == "ner"]), "x"),
        Figure("pairs.speedup_limit", len([s for s in multi["kinds"] if s != "ner"]), "x"),
        Figure("notes.windows", multi["windows"], "windows"),
        Figure("notes.entities_per_100_words", multi["entities_per_100_words"], "entities"),
        Figure("notes.mean_chars", statistics.mean(len(t) for t in make_workload(n_notes, 0, args.seed)[0]),
               "chars"),
    ]
    settings["wall_s"] = time.perf_counter() - started
    write_result("inference", args.device, figures, settings, details, args.out)
    bad = [f.name for f in figures if f.name.endswith("speedup") and not f.value > 0]
    if bad:
        raise CannotMeasure(f"no valid speedup for {bad}")


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
