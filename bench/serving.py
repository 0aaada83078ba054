"""Serving: eager torch vs ONNX Runtime fp32 vs ONNX Runtime int8, and five transformers pipelines as the peer.

    python -m bench.serving [--model DIR] [--notes N] [--pairs N] [--quick] [--device cpu|cuda]

Workload: bench.inference's notes (1,500-3,000 characters) and sentence pairs, every task's output through the
same ``Predictor`` code with each backend. Model: a trained multitask MiniLM (``--model``, or one trained here on
the sample corpora with the demo's settings, kept in ``--work``), because agreement between backends is only
meaningful on confident, trained heads; its fp32 and int8 ONNX exports are made with ``mtclin.export.onnx``.

Per backend (a fresh process each, so peak memory is its own): notes/s and pairs/s at Predictor batch 32; p50/p95
latency of one note and one pair per call (batch 1); peak memory. Agreement (not timed): max |logit| difference
from torch over every batch of the workload and of the sample test sets, identical entities and labels, and every
task's primary metric on the sample test sets through ``evaluate_task`` for the three backends.

The peer: five ``transformers.pipeline("token-classification", aggregation_strategy="first", stride=32)``, one
per NER task, each a ``BertForTokenClassification`` holding the same encoder weights and that task's head (what a
user with five fine-tuned NER models runs), over the same notes at pipeline batch 1 and 32. Their entities are
compared with ours where the two compute the same function: texts of one window whose words both tokenizers split
alike (the notes' words re-joined with single spaces).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from bench.common import (CannotMeasure, Figure, check_device, main_guard, memory_now_mib, now, peak_mib, report,
                          reset_peak, run_worker, write_result)
from bench.inference import make_workload

SETUPS = ("torch", "onnx-fp32", "onnx-int8")
DEMO_TRAINING = {"epochs": 4, "learning_rate": 1e-4}  # flows/demo.py's settings
METRIC_TOLERANCE = 0.5  # points (metric x 100) int8 may lose against fp32 (the "equal metrics")
SPEEDUP_GOALS = {"int8_vs_torch": 3.0, "fastest_vs_pipelines": 15.0}


# --- model and exports ------------------------------------------------------------------------------------------

def prepare_processed(work: Path, seed: int) -> Path:
    """The eight sample corpora, preprocessed with params.yaml's settings, under ``work/processed``."""
    from mtclin.corpora.registry import CORPORA
    from mtclin.corpora.samples import write_samples
    from mtclin.params import load_preprocess_config
    from mtclin.preprocess.run import preprocess_corpus

    processed = work / "processed"
    if all((processed / c / "test.parquet").is_file() for c in CORPORA):
        return processed
    write_samples(work / "data", corpora=CORPORA, seed=seed, skip_existing=True)
    params = Path(__file__).resolve().parent.parent / "params.yaml"
    for corpus in CORPORA:
        config, lenient = load_preprocess_config(params, corpus)
        preprocess_corpus(corpus, work / "data" / corpus, processed / corpus, config, lenient=lenient)
    return processed


def prepare_model(work: Path, processed: Path, seed: int, epochs: int) -> Path:
    """A multitask MiniLM trained on the sample corpora (demo settings), reused when ``work/run`` holds one."""
    from mtclin.corpora.registry import CORPORA
    from mtclin.train.config import TrainConfig
    from mtclin.train.loop import train

    config = TrainConfig(corpora=CORPORA, processed_dir=str(processed), output_dir=str(work / "run"),
                         epochs=epochs, learning_rate=DEMO_TRAINING["learning_rate"], seed=seed, device="cpu",
                         progress=False)
    return train(config).model_dir


def prepare_exports(model_dir: Path, work: Path) -> dict[str, str]:
    from mtclin.export.onnx import export_onnx_all

    setups = {"fp32": "onnx-fp32", "int8": "onnx-int8"}
    export_onnx_all(model_dir, {precision: work / "exports" / setup for precision, setup in setups.items()})
    return {"torch": str(model_dir)} | {setup: str(work / "exports" / setup) for setup in setups.values()}


def load_predictor(setup: str, path: str, device: str, batch_size: int, threads: int, dtype: str = "fp32"):
    """The Predictor of a setup; ``dtype="bf16"`` casts the torch model (GPU runs; ONNX exports keep theirs)."""
    import torch

    from mtclin.inference import Predictor

    backend = "torch" if setup == "torch" else "onnx"
    predictor = Predictor.load(path, device=device if backend == "torch" else "cpu", batch_size=batch_size,
                               backend=backend, threads=threads)
    if backend == "torch" and dtype == "bf16":
        predictor.model.to(torch.bfloat16)
    return predictor


def decisions(note_out: Sequence[dict], pair_out: Sequence[dict]) -> list[Any]:
    """Entity spans and types, and labels: what must be identical between two backends (scores may differ)."""
    ents = [{t: [(e["start"], e["end"], e["type"]) for e in v] for t, v in sorted(r.items())} for r in note_out]
    labels = [{t: v.get("label") for t, v in sorted(r.items())} for r in pair_out]
    return [ents, labels]


def percentile(values: Sequence[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


# --- workers ----------------------------------------------------------------------------------------------------

def backend_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """One backend: throughput at batch 32 (fastest of ``repeats``), batch-1 latency, peak memory, outputs."""
    import torch

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    device = cfg["device"] if cfg["setup"] == "torch" else "cpu"
    notes, pairs = make_workload(cfg["notes"], cfg["pairs"], cfg["seed"])
    base = memory_now_mib(device)
    predictor = load_predictor(cfg["setup"], cfg["path"], device, cfg["batch_size"], cfg["threads"],
                               cfg.get("dtype", "fp32"))
    predictor.predict(notes[:4])  # warm-up: kernel selection, allocator, ORT's first-run graph work
    predictor.predict_pairs(pairs[:32])
    reset_peak(device)
    runs = []
    for _ in range(cfg["repeats"]):
        t0 = now(device)
        note_out = predictor.predict(notes)
        t1 = now(device)
        pair_out = predictor.predict_pairs(pairs)
        runs.append({"notes_s": t1 - t0, "pairs_s": now(device) - t1})
    note_ms, pair_ms = [], []
    for note in notes[:cfg["latency_items"]]:
        t0 = now(device)
        predictor.predict([note])
        note_ms.append(1000 * (now(device) - t0))
    for pair in pairs[:cfg["latency_items"]]:
        t0 = now(device)
        predictor.predict_pairs([pair])
        pair_ms.append(1000 * (now(device) - t0))
    return {"config": cfg, "runs": runs, "notes_s": min(r["notes_s"] for r in runs),
            "pairs_s": min(r["pairs_s"] for r in runs), "note_latency_ms": note_ms, "pair_latency_ms": pair_ms,
            "peak_mib": peak_mib(device), "base_mib": base, "threads": torch.get_num_threads(),
            "decisions": decisions(note_out, pair_out)}


def peer_pipelines(model_dir: str, device: str, dtype: str = "fp32") -> dict[str, Any]:
    """One token-classification pipeline per NER task: the multitask model's encoder and that task's head in a
    ``BertForTokenClassification``, windows of the model's max_length with its stride."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, pipeline

    from mtclin.model.io import load_model

    model, tokenizer, meta = load_model(Path(model_dir), "cpu")
    tokenizer.model_max_length = meta.max_length  # the pipeline's window length
    pipes = {}
    for spec in (t for t in meta.tasks if t.kind == "ner"):
        labels = dict(enumerate(spec.tag_labels))
        config = BertConfig.from_dict(model.encoder.config.to_dict() | {
            "num_labels": len(labels), "id2label": labels, "label2id": {v: k for k, v in labels.items()}})
        peer = BertForTokenClassification(config)
        missing, unexpected = peer.bert.load_state_dict(model.encoder.state_dict(), strict=False)
        if missing or any(not k.startswith("pooler.") for k in unexpected):  # the peer has no pooler, nothing else
            raise CannotMeasure(f"peer model for {spec.name}: weights do not fit ({missing}, {unexpected})")
        peer.classifier.load_state_dict(model.heads[spec.name].classifier.state_dict())
        peer = peer.to(torch.bfloat16 if dtype == "bf16" else torch.float32).eval()
        pipes[spec.name] = pipeline("token-classification", model=peer, tokenizer=tokenizer,
                                    aggregation_strategy="first", stride=meta.stride, device=torch.device(device))
    return pipes


def pipelines_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    import torch

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    device = cfg["device"]
    notes, _ = make_workload(cfg["notes"], 0, cfg["seed"])
    base = memory_now_mib(device)
    pipes = peer_pipelines(cfg["path"], device, cfg.get("dtype", "fp32"))
    for pipe in pipes.values():
        pipe(notes[:2], batch_size=cfg["batch_size"])  # warm-up
    reset_peak(device)
    runs = []
    for _ in range(cfg["repeats"]):
        t0 = now(device)
        for pipe in pipes.values():
            pipe(notes, batch_size=cfg["batch_size"])
        runs.append(now(device) - t0)
    return {"config": cfg, "runs": runs, "notes_s": min(runs), "peak_mib": peak_mib(device), "base_mib": base,
            "threads": torch.get_num_threads()}


def probe_texts(notes: Sequence[str], tokenizer: Any, max_length: int, words_per_text: int, limit: int
                ) -> list[str]:
    """Texts on which ours and the pipelines compute the same function: one window each (no windowing
    differences), words re-joined with single spaces (BERT's pre-tokenizer then splits exactly our words)."""
    from mtclin.preprocess.words import word_spans

    out = []
    for note in notes:
        words = [note[s:e] for s, e in word_spans(note)]
        for i in range(0, len(words), words_per_text):
            text = " ".join(words[i:i + words_per_text])
            if len(tokenizer(text)["input_ids"]) <= max_length:
                out.append(text)
    return out[:limit]


def agreement_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Untimed: max |logit| differences from torch, metrics on the sample test sets per backend, and the peer's
    entities against ours on the probe texts."""
    import torch

    from mtclin.data.collate import collate_ner, collate_pairs, length_sorted_batches
    from mtclin.data.encode_ner import encode_texts
    from mtclin.data.encode_pairs import encode_pairs
    from mtclin.data.task_data import encode_task, load_rows
    from mtclin.evaluate.run import evaluate_task
    from mtclin.export.onnx import logit_differences
    from mtclin.export.runtime import OnnxModel
    from mtclin.inference import Predictor
    from mtclin.model.io import load_model

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    paths = cfg["paths"]
    model, tokenizer, meta = load_model(Path(paths["torch"]), "cpu")
    engines = {"torch": model} | {s: OnnxModel(Path(paths[s]) / "model.onnx", cfg["threads"]) for s in SETUPS[1:]}
    names = tuple(t.name for t in meta.tasks)
    notes, pairs = make_workload(cfg["notes"], cfg["pairs"], cfg["seed"])
    pad = tokenizer.pad_token_id
    windows, _ = encode_texts(notes, tokenizer, meta.max_length, meta.stride)
    examples = encode_pairs([{"a": a, "b": b} for a, b in pairs], tokenizer, "sts", (), meta.pair_max_length)
    strip = ("input_ids", "attention_mask", "token_type_ids")
    batches = [{k: v for k, v in collate_ner([windows[i] for i in idx], pad).items() if k in strip}
               for idx in length_sorted_batches([len(w) for w in windows], 32)]
    batches += [{k: v for k, v in collate_pairs([examples[i] for i in idx], pad).items() if k in strip}
                for idx in length_sorted_batches([len(e) for e in examples], 32)]
    metrics: dict[str, dict[str, float]] = {s: {} for s in SETUPS}
    for spec in meta.tasks:
        rows = load_rows(Path(cfg["processed"]), spec.name, "test")
        data = encode_task(spec, rows, tokenizer, meta.max_length if spec.kind == "ner" else meta.pair_max_length,
                           meta.stride)
        batches += [{k: v for k, v in data.collate(idx, pad).items() if k in strip}
                    for idx in length_sorted_batches(data.lengths, 32)]
        for setup, engine in engines.items():
            metrics[setup][spec.name] = float(evaluate_task(engine, data, torch.device("cpu"), 32, pad)
                                              [spec.primary_metric])
    diffs = {s: logit_differences(model, engines[s], batches, names) for s in SETUPS[1:]}
    # the peer on texts where both compute the same function
    probes = probe_texts(notes, tokenizer, meta.max_length, cfg["probe_words"], cfg["probes"])
    ours = Predictor(model, tokenizer, meta, torch.device("cpu"), 32).predict(probes)
    same = total = 0
    mismatches = []
    for task, pipe in peer_pipelines(paths["torch"], "cpu").items():
        for k, (text, got) in enumerate(zip(probes, pipe(probes, batch_size=32))):
            theirs = sorted((e["start"], e["end"], e["entity_group"]) for e in got)
            mine = sorted((e["start"], e["end"], e["type"]) for e in ours[k][task])
            total += 1
            same += theirs == mine
            if theirs != mine and len(mismatches) < 5:
                mismatches.append({"task": task, "probe": k, "ours": mine, "pipeline": theirs})
    return {"config": cfg, "metrics": metrics, "primary": {t.name: t.primary_metric for t in meta.tasks},
            "max_abs_logit_diff": diffs, "batches": len(batches), "probe_texts": len(probes),
            "peer_same_entities": same, "peer_compared": total, "peer_mismatches": mismatches}


# --- main -------------------------------------------------------------------------------------------------------

def figures_for(got: dict[str, Any], peers: dict[int, dict[str, Any]], agree: dict[str, Any], n_notes: int,
                n_pairs: int) -> list[Figure]:
    figs = []
    for setup in SETUPS:
        r = got[setup]
        figs += [Figure(f"{setup}.notes_per_s", n_notes / r["notes_s"], "notes/s"),
                 Figure(f"{setup}.pairs_per_s", n_pairs / r["pairs_s"], "pairs/s"),
                 Figure(f"{setup}.note_latency_p50", percentile(r["note_latency_ms"], 50), "ms"),
                 Figure(f"{setup}.note_latency_p95", percentile(r["note_latency_ms"], 95), "ms"),
                 Figure(f"{setup}.pair_latency_p50", percentile(r["pair_latency_ms"], 50), "ms"),
                 Figure(f"{setup}.pair_latency_p95", percentile(r["pair_latency_ms"], 95), "ms"),
                 Figure(f"{setup}.peak_memory", r["peak_mib"], "MiB"),
                 Figure(f"{setup}.peak_memory_above_base", r["peak_mib"] - r["base_mib"], "MiB")]
    for setup in SETUPS[1:]:
        figs += [Figure(f"{setup}.notes_speedup_vs_torch", got["torch"]["notes_s"] / got[setup]["notes_s"], "x"),
                 Figure(f"{setup}.pairs_speedup_vs_torch", got["torch"]["pairs_s"] / got[setup]["pairs_s"], "x"),
                 Figure(f"{setup}.max_abs_logit_diff", max(agree["max_abs_logit_diff"][setup].values()), "logit"),
                 Figure(f"{setup}.outputs_identical", int(got[setup]["decisions"] == got["torch"]["decisions"]),
                        "bool")]
    drops = []
    for setup in SETUPS:
        for task, value in agree["metrics"][setup].items():
            figs.append(Figure(f"metric.{setup}.{task}.{agree['primary'][task]}", 100 * value, "points"))
    for task in agree["metrics"]["onnx-fp32"]:
        drops.append(100 * (agree["metrics"]["onnx-fp32"][task] - agree["metrics"]["onnx-int8"][task]))
    fastest = min(SETUPS, key=lambda s: got[s]["notes_s"])
    fp32_change = max(abs(100 * (agree["metrics"]["onnx-fp32"][t] - v)) for t, v in agree["metrics"]["torch"].items())
    figs += [Figure("onnx-fp32.max_metric_change_vs_torch", fp32_change, "points"),
             # identical decisions; correlations still move in the last digits with the scores' float noise
             Figure("onnx-fp32.metrics_identical", int(fp32_change <= 1e-3), "bool"),
             Figure("onnx-int8.max_metric_drop_vs_fp32", max(drops), "points"),
             Figure("onnx-int8.max_metric_change_vs_fp32", max(abs(d) for d in drops), "points"),
             Figure("onnx-int8.metrics_within_tolerance", int(max(abs(d) for d in drops) <= METRIC_TOLERANCE),
                    "bool")]
    for bs, peer in sorted(peers.items()):
        figs += [Figure(f"pipelines.b{bs}.notes_per_s", n_notes / peer["notes_s"], "notes/s"),
                 Figure(f"pipelines.b{bs}.peak_memory", peer["peak_mib"], "MiB"),
                 Figure(f"{fastest}.speedup_vs_pipelines_b{bs}", peer["notes_s"] / got[fastest]["notes_s"], "x")]
    int8_x = got["torch"]["notes_s"] / got["onnx-int8"]["notes_s"]
    peer_x = min(peer["notes_s"] for peer in peers.values()) / got[fastest]["notes_s"]
    figs += [Figure("fastest_backend", SETUPS.index(fastest), f"index into {','.join(SETUPS)}"),
             Figure("peer.same_entities_fraction", agree["peer_same_entities"] / max(agree["peer_compared"], 1),
                    "fraction"),
             Figure("peer.compared", agree["peer_compared"], "texts x tasks"),
             Figure("goal.int8_vs_torch_met", int(int8_x >= SPEEDUP_GOALS["int8_vs_torch"]
                                                  and max(abs(d) for d in drops) <= METRIC_TOLERANCE), "bool"),
             Figure("goal.fastest_vs_pipelines_met", int(peer_x >= SPEEDUP_GOALS["fastest_vs_pipelines"]), "bool")]
    return figs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="the torch backend's and the "
                        "pipelines' device (ONNX Runtime runs on the CPU)")
    parser.add_argument("--dtype", default="fp32", choices=("fp32", "bf16"), help="the torch backend's and the "
                        "pipelines' weights (bf16: for --device cuda)")
    parser.add_argument("--model", default=None, help="a saved model directory (default: train one on the sample "
                        "corpora into --work)")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "mtclin-bench-serving"),
                        help="scratch directory: sample corpora, processed tables, the trained model, exports")
    parser.add_argument("--epochs", type=int, default=DEMO_TRAINING["epochs"], help="epochs when training here")
    parser.add_argument("--notes", type=int, default=None, help="notes (default 40; quick 4)")
    parser.add_argument("--pairs", type=int, default=None, help="sentence pairs (default 200; quick 32)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per backend, fastest counts "
                                                                    "(default 3; quick 1)")
    parser.add_argument("--latency-items", type=int, default=None, help="notes and pairs sent one per call for "
                                                                          "the latency figures (default 40; quick 4)")
    parser.add_argument("--pipeline-batch-sizes", default="1,32", help="the peer pipelines' batch sizes")
    parser.add_argument("--probes", type=int, default=200, help="texts for the peer entity comparison")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch / ONNX Runtime threads (0: their default)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (model training excluded)")
    parser.add_argument("--load-backends", default="onnx-fp32,onnx-int8", help="backends served under load "
                        "(bench.load), comma-separated; empty: no load test")
    parser.add_argument("--load-requests", type=int, default=0, help="requests of the load phase (overload: twice "
                        "as many; default bench.load's)")
    parser.add_argument("--part", default="all", choices=("all", "interleaved"), help="interleaved: only the "
                        "side-by-side speed ratios, added to the existing result file (--out)")
    parser.add_argument("--dry-run", action="store_true", help="parse the arguments, check the device, print the "
                        "plan and stop")
    parser.add_argument("--out", default=None, help="result JSON (default bench/results/serving-<device>.json)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def interleaved_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Every backend and the peer in ONE process, their runs over the notes interleaved round by round, fastest
    round each: on a machine others are using, load changes over minutes, so only runs taken side by side give
    speed ratios (the per-backend processes above give memory, latency and absolute rates)."""
    import torch

    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    notes, _ = make_workload(cfg["notes"], 0, cfg["seed"])
    runners = {s: load_predictor(s, cfg["paths"][s], cfg["device"], 32, cfg["threads"], cfg.get("dtype", "fp32"))
               for s in SETUPS}
    calls = {s: (lambda p=p: p.predict(notes)) for s, p in runners.items()}
    pipes = peer_pipelines(cfg["paths"]["torch"], cfg["device"], cfg.get("dtype", "fp32"))
    for size in cfg["pipeline_batch_sizes"]:
        calls[f"pipelines.b{size}"] = lambda size=size: [pipe(notes, batch_size=size) for pipe in pipes.values()]
    for call in calls.values():  # warm-up
        call()
    rounds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(cfg["repeats"]):
        for name, call in calls.items():
            t0 = now(cfg["device"])
            call()
            rounds[name].append(now(cfg["device"]) - t0)
    return {"config": cfg, "rounds": rounds, "notes_s": {k: min(v) for k, v in rounds.items()}}


def prepare_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Processed sample corpora, the model (trained here unless given) and its exports: in a worker, so that the
    parent stays small (a child's peak RSS starts at its parent's: Linux keeps ru_maxrss across fork and exec)."""
    work = Path(cfg["work"])
    processed = prepare_processed(work, cfg["seed"])
    model_dir = Path(cfg["model"]) if cfg["model"] else prepare_model(work, processed, cfg["seed"], cfg["epochs"])
    return {"processed": str(processed), "paths": prepare_exports(model_dir, work)}


WORKERS = {"prepare": prepare_worker, "backend": backend_worker, "pipelines": pipelines_worker,
           "agreement": agreement_worker, "interleaved": interleaved_worker}


def interleaved_figures(result: dict[str, Any], n_notes: int) -> list[Figure]:
    t = result["notes_s"]
    figs = [Figure(f"interleaved.{name}.notes_per_s", n_notes / v, "notes/s") for name, v in t.items()]
    figs += [Figure(f"interleaved.{s}.notes_speedup_vs_torch", t["torch"] / t[s], "x") for s in SETUPS[1:]]
    fastest = min(SETUPS, key=lambda s: t[s])
    peers = {name[len("pipelines."):]: v for name, v in t.items() if name.startswith("pipelines.")}
    figs += [Figure(f"interleaved.fastest_speedup_vs_pipelines_{size}", v / t[fastest], "x")
             for size, v in peers.items()]
    # the goal is read against the pipelines' fastest batch size: the peer as well set up as it can be
    best_peer = min(peers.values())
    figs += [Figure("interleaved.fastest_speedup_vs_best_pipelines", best_peer / t[fastest], "x"),
             Figure("interleaved.goal.int8_vs_torch_met", int(t["torch"] / t["onnx-int8"]
                                                              >= SPEEDUP_GOALS["int8_vs_torch"]), "bool"),
             Figure("interleaved.goal.fastest_vs_pipelines_met",
                    int(best_peer / t[fastest] >= SPEEDUP_GOALS["fastest_vs_pipelines"]), "bool")]
    return figs


def run(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        cfg = json.loads(args.worker)
        report(WORKERS[cfg["kind"]](cfg))
        return
    check_device(args.device)
    n_notes = args.notes if args.notes is not None else (4 if args.quick else 40)
    n_pairs = args.pairs if args.pairs is not None else (32 if args.quick else 200)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    latency_items = args.latency_items if args.latency_items is not None else (4 if args.quick else 40)
    peer_sizes = [int(b) for b in args.pipeline_batch_sizes.split(",")]
    if min(n_notes, n_pairs, repeats, latency_items) < 1:
        raise CannotMeasure("--notes, --pairs, --repeats and --latency-items must be >= 1")
    settings = {"notes": n_notes, "pairs": n_pairs, "repeats": repeats, "latency_items": latency_items,
                "pipeline_batch_sizes": peer_sizes, "seed": args.seed, "threads": args.threads, "quick": args.quick,
                "device": args.device, "dtype": args.dtype, "model": args.model, "epochs": args.epochs, "predictor_batch_size": 32}
    if args.dry_run:
        print(json.dumps({"plan": "serving", "setups": list(SETUPS), "peer": "5 token-classification pipelines"}
                         | settings))
        return
    started = time.perf_counter()
    if args.part == "interleaved":
        return update_interleaved(args, settings)
    prepared = run_worker("bench.serving", {"kind": "prepare", "work": args.work, "model": args.model,
                                            "seed": args.seed, "epochs": args.epochs}, timeout=4 * 3600)
    processed, paths = prepared["processed"], prepared["paths"]
    print(f"# model {paths['torch']}", file=sys.stderr, flush=True)
    common = {"device": args.device, "dtype": args.dtype, "notes": n_notes, "pairs": n_pairs, "seed": args.seed, "threads": args.threads,
              "repeats": repeats}
    got, peers, details = {}, {}, {}
    for setup in SETUPS:
        got[setup] = run_worker("bench.serving", common | {"kind": "backend", "setup": setup, "path": paths[setup],
                                                           "batch_size": 32, "latency_items": latency_items})
        print(f"# {setup}: notes {got[setup]['notes_s']:.2f}s pairs {got[setup]['pairs_s']:.2f}s peak "
              f"{got[setup]['peak_mib']:.0f} MiB", file=sys.stderr, flush=True)
    for bs in peer_sizes:
        peers[bs] = run_worker("bench.serving", common | {"kind": "pipelines", "path": paths["torch"],
                                                          "batch_size": bs})
        print(f"# pipelines b{bs}: notes {peers[bs]['notes_s']:.2f}s", file=sys.stderr, flush=True)
    agree = run_worker("bench.serving", common | {"kind": "agreement", "paths": paths, "processed": processed,
                                                  "probes": args.probes, "probe_words": 30})
    figures = figures_for(got, peers, agree, n_notes, n_pairs)
    details["interleaved"] = run_worker("bench.serving", common | {"kind": "interleaved", "paths": paths,
                                                                   "pipeline_batch_sizes": peer_sizes})
    figures += interleaved_figures(details["interleaved"], n_notes)
    for backend in [b for b in args.load_backends.split(",") if b]:
        from bench import load

        load_args = load.parse_args(["--model", paths[backend], "--backend", backend, "--threads",
                                     str(args.threads), "--seed", str(args.seed), "--notes", str(n_notes)]
                                    + (["--requests", str(args.load_requests)] if args.load_requests else [])
                                    + (["--overload-requests", str(2 * args.load_requests)] if args.load_requests
                                       else []) + (["--quick"] if args.quick else []))
        load_figures, settings[f"load.{backend}"], details[f"load.{backend}"] = load.load_test(load_args)
        figures += [Figure(f"serve.{backend}.{f.name}", f.value, f.unit) for f in load_figures]
    for setup in SETUPS:
        details[setup] = {k: v for k, v in got[setup].items() if k != "decisions"}  # outputs: too big to keep
    details |= {f"pipelines.b{bs}": peer for bs, peer in peers.items()} | {"agreement": agree}
    details["exports"] = {s: json.loads((Path(paths[s]) / "export.json").read_text()) for s in SETUPS[1:]}
    settings["wall_s"] = time.perf_counter() - started
    write_result("serving", args.device, figures, settings, details, args.out)


def update_interleaved(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    """Measure the interleaved ratios with the exports a full run left in --work; rewrite the result file with
    them added (its other figures unchanged)."""
    from bench.common import result_path

    path = result_path("serving", args.device, args.out)
    previous = json.loads(path.read_text())
    work = Path(args.work)
    paths = {"torch": args.model or str(work / "run" / "model")} | {s: str(work / "exports" / s) for s in SETUPS[1:]}
    result = run_worker("bench.serving", {"kind": "interleaved", "paths": paths, "device": args.device,
                                          "dtype": args.dtype, "notes": settings["notes"], "seed": args.seed,
                                          "threads": args.threads, "repeats": settings["repeats"],
                                          "pipeline_batch_sizes": settings["pipeline_batch_sizes"]})
    figures = [Figure(**f) for f in previous["figures"] if not f["name"].startswith("interleaved.")]
    figures += interleaved_figures(result, settings["notes"])
    write_result("serving", args.device, figures, previous["settings"] | {"interleaved": settings},
                 previous["details"] | {"interleaved": result}, args.out)


def main(argv: Sequence[str] | None = None) -> int:
    return main_guard(run, argv)


if __name__ == "__main__":
    sys.exit(main())
