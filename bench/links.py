"""What the assertion and relation heads cost: notes/s with and without them (same notes, same model), and the
training step time of each task.

    python -m bench.links [--device cpu|cuda] [--notes N] [--steps N] [--repeats N] [--quick]

Inference: MiniLM with the i2b2-2010 and n2c2-2018 NER tasks, with and without i2b2-2010-assertion,
i2b2-2010-relations and n2c2-2018-relations (random heads, NER "O" biased as in bench.inference so that a
realistic number of entities comes out; the link heads then classify those). The NER outputs of both runs must be
identical (``ner_outputs_identical``): the link heads run on the kept window states, the encoder once.
Training: one optimisation step (forward, backward, update; batch of ``ner_batch_size`` windows of the sample
corpora) per task, the median of ``--steps``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import check_device, machine_info, now, result_path
from bench.inference import O_BIAS, make_workload

NER = ("i2b2-2010", "n2c2-2018")
LINKS = ("i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018-relations")


def processed_samples(root: Path) -> Path:
    """The sample i2b2-2010 and n2c2-2018 corpora, preprocessed into ``root/processed``."""
    from mtclin.corpora.samples import write_samples
    from mtclin.preprocess.run import preprocess_corpus
    from mtclin.preprocess.tables import PreprocessConfig

    write_samples(root / "data", corpora=NER, seed=0)
    for corpus in NER:
        preprocess_corpus(corpus, root / "data" / corpus, root / "processed" / corpus, PreprocessConfig())
    return root / "processed"


def build(processed: Path, device: str):
    import torch

    from mtclin.data.task_data import load_rows
    from mtclin.model.io import DEFAULT_ENCODER, build_model
    from mtclin.train.config import TrainConfig
    from mtclin.train.session import training_task

    config = TrainConfig(processed_dir=str(processed))
    specs = [training_task(config, t, load_rows(processed, t, "train")) for t in NER + LINKS]
    torch.manual_seed(0)
    model, tokenizer = build_model(DEFAULT_ENCODER, specs)
    with torch.no_grad():
        for spec in specs[:len(NER)]:
            model.heads[spec.name].classifier.bias[0] += O_BIAS
    return model.to(device), tokenizer, specs, config


def inference(model, tokenizer, specs, notes: list[str], device: str, batch_size: int, repeats: int = 3
              ) -> dict[str, Any]:
    """Notes/s without and with the link heads, timed interleaved (without, with, without, ...; ``repeats``
    rounds) so that a change of the machine's load during the run falls on both alike; the medians are read."""
    import torch

    from mtclin.inference import Predictor
    from mtclin.model.io import ModelMeta

    predictors = {name: Predictor(model.eval(), tokenizer, ModelMeta(tuple(tasks)), torch.device(device), batch_size)
                  for name, tasks in (("without", specs[:len(NER)]), ("with", specs))}
    seconds: dict[str, list[float]] = {name: [] for name in predictors}
    got = {}
    for predictor in predictors.values():
        predictor.predict(notes[:4])  # warm-up
    for _ in range(repeats):
        for name, predictor in predictors.items():
            t0 = now(device)
            got[name] = predictor.predict(notes)
            seconds[name].append(now(device) - t0)
    ner_outputs = {name: [{t: [(e["start"], e["end"], e["type"]) for e in r[t]] for t in NER} for r in answers]
                   for name, answers in got.items()}
    out: dict[str, Any] = {name: {"seconds": times, "notes_per_s": len(notes) / statistics.median(times)}
                           for name, times in seconds.items()}
    out["entities_per_note"] = statistics.fmean(sum(len(r[t]) for t in NER) for r in got["with"])
    out["relations_per_note"] = statistics.fmean(len(r[t]) for r in got["with"] for t in LINKS[1:]) * 2
    out["ner_outputs_identical"] = ner_outputs["with"] == ner_outputs["without"]
    out["slowdown"] = out["without"]["notes_per_s"] / out["with"]["notes_per_s"]
    out["slowdown_per_round"] = [w / wo for w, wo in zip(seconds["with"], seconds["without"])]
    return out


def training(model, tokenizer, specs, config, processed: Path, device: str, steps: int) -> dict[str, float]:
    """Median milliseconds of one optimisation step per task."""
    import torch

    from mtclin.data.task_data import encode_task, load_rows
    from mtclin.train.loop import optimisation_step

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    out = {}
    for spec in specs:
        data = encode_task(spec, load_rows(processed, spec.name, "train"), tokenizer, config.max_length,
                           config.stride)
        size = config.batch_size(spec.name, spec.kind)
        batches = [data.collate(list(range(k, k + size)), tokenizer.pad_token_id)
                   for k in range(0, max(len(data.items) - size, 1), size)][:max(steps, 1)]
        times = []
        for k in range(steps + 1):
            batch = {n: v.to(device) for n, v in batches[k % len(batches)].items()}
            t0 = now(device)
            optimisation_step(model, model, optimizer, None, [(spec.name, batch)], torch.device(device).type, None,
                              1.0)
            if k:  # the first step warms up
                times.append(now(device) - t0)
        out[spec.name] = 1000 * statistics.median(times)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of without / with link heads")
    parser.add_argument("--quick", action="store_true", help="20 notes, 3 steps: a check that it runs")
    parser.add_argument("--out", default="", help="the result JSON (default bench/results/links-<device>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.notes, args.steps, args.repeats = 20, 3, 1
    check_device(args.device)
    import torch

    torch.set_num_threads(torch.get_num_threads())
    notes, _ = make_workload(args.notes, 0)
    with tempfile.TemporaryDirectory(prefix="mtclin-bench-links-") as tmp:
        processed = processed_samples(Path(tmp))
        model, tokenizer, specs, config = build(processed, args.device)
        result = {"device": args.device, "notes": args.notes, "batch_size": args.batch_size, "repeats": args.repeats,
                  "threads": torch.get_num_threads(),
                  "inference": inference(model, tokenizer, specs, notes, args.device, args.batch_size,
                                         args.repeats),
                  "training_step_ms": training(model, tokenizer, specs, config, processed, args.device, args.steps)}
    result = {"benchmark": "links", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": machine_info(args.device), "quick": args.quick} | result
    text = json.dumps(result, indent=2)
    print(text)
    path = result_path("links", args.device, args.out or None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
