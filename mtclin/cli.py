"""`mtclin` command line: the library's operations for people who don't run Prefect.

Each subcommand is a thin wrapper over one library call; heavy imports happen inside the command that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

from mtclin.corpora.problems import CorpusFormatError


def _cmd_sample_corpora(args: argparse.Namespace) -> int:
    from mtclin.corpora.registry import CORPORA
    from mtclin.corpora.samples import write_samples

    corpora = CORPORA if args.corpora == ["all"] else args.corpora
    written = write_samples(Path(args.dir), corpora=corpora, seed=args.seed, scale=args.scale,
                            skip_existing=args.skip_existing)
    skipped = [c for c in corpora if c not in written]
    print(f"wrote {len(written)} sample corpora into {args.dir}: {', '.join(written) or '-'}")
    if skipped:
        print(f"skipped (already present): {', '.join(skipped)}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from mtclin.corpora.registry import read_corpus
    from mtclin.preprocess.link_stats import describe
    from mtclin.preprocess.stats import corpus_stats

    splits = args.splits.split(",") if args.splits else None  # None: every split the reader knows
    corpus = read_corpus(args.corpus, Path(args.dir), splits=splits, lenient=args.lenient)
    stats = corpus_stats(corpus) | {"labels": list(corpus.labels)}  # as preprocessing records them
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
    else:
        for split, s in stats["splits"].items():
            print(f"{args.corpus} {split}: " + ", ".join(f"{k}={v}" for k, v in s.items() if not isinstance(v, dict)))
            for line in describe(s):
                print(line)
        if stats["labels"]:
            print(f"labels: {', '.join(stats['labels'])}")
        print(f"problems: {stats['problems']['count']}")
        for p in stats["problems"]["items"]:
            print(f"  {p['file']}:{p['position']}: {p['message']}")
        for notice in stats["notices"]["items"]:
            print(f"notice: {notice['message']}")
    return 0


def _cmd_preprocess(args: argparse.Namespace) -> int:
    from mtclin.params import load_preprocess_config
    from mtclin.preprocess.run import preprocess_corpus

    config, lenient = load_preprocess_config(Path(args.params), args.corpus)
    stats = preprocess_corpus(args.corpus, Path(args.data), Path(args.out), config, lenient=lenient or args.lenient)
    rows = {split: s.get("rows") for split, s in stats["splits"].items()}
    print(f"{args.corpus}: wrote {args.out} rows={rows} problems={stats['problems']['count']}")
    return 0


def _train_config(args: argparse.Namespace):
    from mtclin.config_args import config_from_options
    from mtclin.corpora.registry import CORPORA
    from mtclin.train.config import TrainConfig

    return config_from_options(args, TrainConfig, {"corpora": CORPORA})


def _cmd_train(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from mtclin.train.loop import train

    config = _train_config(args)
    if config.init.startswith("models:/"):
        from mtclin.tracking.fetch import local_model

        fetched = local_model(config.init)
    else:
        fetched = nullcontext(None)
    with fetched as ref:
        result = train(config, resume=not args.no_resume, init_dir=ref.path if ref is not None else None)
    def show(label: str, metrics: dict, score: float) -> None:
        for task, values in metrics.items():
            print(f"{label} {task}: {({k: round(v, 4) for k, v in values.items() if isinstance(v, float)})}")
        print(f"{label} score (mean primary metric): {score:.4f}")

    for record in result.history:
        show(f"epoch {record['epoch']} {record.get('split', '')}".rstrip(), record["metrics"], record["score"])
    stopped = " (stopped early)" if result.stopped_early else ""
    print(f"selected epoch {result.best_epoch} of {len(result.history)}{stopped}, {result.steps} steps, "
          f"selection {result.selection}; model: {result.model_dir}")
    if result.test is not None:
        show("test (selected model)", result.test["metrics"], result.test["score"])
        for task, kept in result.test.get("retention", {}).items():
            print(f"carried task {task} (not trained): test {kept['metric']} {kept['before']:.4f} -> "
                  f"{kept['after']:.4f} ({kept['delta']:+.4f})")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from mtclin.evaluate.release import evaluate_release
    from mtclin.model.io import resolve_device
    from mtclin.tracking.fetch import local_model

    with local_model(args.model) as ref:
        result = evaluate_release(ref.path, args.corpus, Path(args.data), args.split, args.task, args.lenient,
                                  args.batch_size, str(resolve_device(args.device)))
    result = {"model": args.model, "model_version": ref.version} | result
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, default=float))
        return 0
    print(f"{args.model} on {args.corpus} {args.split}: {result['examples']} examples, {result['problems']} problems")
    for task, metrics in result["metrics"].items():
        print(f"{task}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if isinstance(v, float)))
        for etype, scores in metrics.get("per_type", {}).items():
            print(f"  {etype}: " + ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                            for k, v in scores.items()))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from mtclin.inference import Predictor
    from mtclin.serving import predict_records, read_jsonl

    predictor = Predictor.load(args.model, device=args.device, batch_size=args.batch_size)
    source = open(args.input, encoding="utf-8") if args.input != "-" else sys.stdin
    sink = open(args.output, "w", encoding="utf-8") if args.output != "-" else sys.stdout
    with source, sink:
        for line in predict_records(predictor, read_jsonl(source, args.input)):
            sink.write(line + "\n")
    return 0


def _same_file(a: str, b: str) -> bool:
    if a == "-" or b == "-":
        return False
    if Path(a).exists() and Path(b).exists():
        return Path(a).samefile(b)  # hard links and symlinks included
    return Path(a).resolve() == Path(b).resolve()


def _cmd_deid(args: argparse.Namespace) -> int:
    from contextlib import nullcontext
    from functools import partial

    from mtclin.atomic_dir import file_replaced_atomically
    from mtclin.deid import phi_task
    from mtclin.inference import Predictor
    from mtclin.serving import deid_answer, predict_records, read_jsonl
    from mtclin.tracking.fetch import local_model

    if _same_file(args.input, args.output):
        raise ValueError(f"--output {args.output} is the input file: write the de-identified notes to another file "
                         "(the input is never overwritten)")
    with local_model(args.model) as ref:  # a registry version is fetched to a temporary directory, loaded, removed
        predictor = Predictor.load(ref.path, device=args.device, batch_size=args.batch_size)
    task = phi_task(predictor.meta.tasks, args.task, where=args.model)
    respond = partial(deid_answer, task=task, surrogates=args.surrogates)
    source = open(args.input, encoding="utf-8") if args.input != "-" else sys.stdin
    # a file is written whole or not at all (a bad record on line 900 leaves no half-de-identified output)
    sink = file_replaced_atomically(args.output) if args.output != "-" else nullcontext(sys.stdout)
    count = 0
    with source, sink as out:
        for line in predict_records(predictor, read_jsonl(source, args.input, text_only=True), respond=respond):
            out.write(line + "\n")
            count += 1
    if args.output != "-":
        print(f"de-identified {count} notes with {args.model} ({task}) -> {args.output}", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from mtclin.export.onnx import export_onnx, max_abs_logit_diff
    from mtclin.tracking.fetch import local_model

    with local_model(args.model) as model:
        info = export_onnx(model.path, Path(args.out), quantize=args.quantize)
    print(f"exported {args.model} -> {args.out} (onnx {info['precision']}, opset {info['opset']}, "
          f"{len(info['outputs'])} task outputs; max |logit - torch| on the check batch "
          f"{max_abs_logit_diff(info):.2e})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtclin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-corpora", help="write the built-in corpora's samples in their official raw formats")
    p.add_argument("dir", help="data directory; each corpus goes to DIR/<corpus>")
    p.add_argument("--corpora", nargs="+", default=["all"], help="built-in corpora (default all: the paper's eight)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the number of documents/pairs")
    p.add_argument("--skip-existing", action="store_true", help="leave corpora whose directory holds files")
    p.set_defaults(func=_cmd_sample_corpora)

    p = sub.add_parser("inspect", help="read a release and count what is in it (check it before GPU time)")
    p.add_argument("corpus", help="a built-in corpus, or one declared in the project's corpora.yaml")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lenient", action="store_true", help="collect every problem instead of stopping at the first")
    p.add_argument("--splits", help="comma-separated splits to read (default: all the release has: train,test and an official dev)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("preprocess", help="raw release -> processed parquet tables + stats (a DVC stage)")
    p.add_argument("corpus")
    p.add_argument("--data", required=True, help="the corpus's raw directory, e.g. data/i2b2-2010")
    p.add_argument("--out", required=True, help="output directory, e.g. processed/i2b2-2010")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--lenient", action="store_true")
    p.set_defaults(func=_cmd_preprocess)

    p = sub.add_parser("train", help="train the multitask model (or one task: single-task fine-tuning)")
    from mtclin.config_args import add_config_options
    from mtclin.train.config import TrainConfig, setting_choices

    add_config_options(p, TrainConfig, choices=setting_choices(), aliases={"output_dir": ["--output"]})
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a model (directory or models:/NAME@ALIAS) on a raw corpus release")
    p.add_argument("--model", required=True, help="a saved model directory, or models:/NAME@ALIAS | models:/NAME/N")
    p.add_argument("--corpus", required=True, help="the reader of the release (a registered corpus name)")
    p.add_argument("--data", required=True, help="the unpacked release, e.g. data/i2b2-2010")
    p.add_argument("--split", default="test", help="test (default), dev (official or carved as preprocessing), train")
    p.add_argument("--task", help="the model's head to score (default: the one named like the corpus)")
    p.add_argument("--lenient", action="store_true", help="skip broken annotations (counted) instead of stopping")
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help='JSON lines in ({"text": ...} or {"a": ..., "b": ...}), JSON lines out')
    p.add_argument("--model", required=True, help="a saved model directory")
    p.add_argument("--input", default="-")
    p.add_argument("--output", default="-")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("deid", help='JSON lines of notes ({"text": ...}) in, the notes with predicted PHI replaced '
                       'by [TYPE] out (plus the replaced spans\' offsets in both texts)')
    p.add_argument("--model", required=True, help="a saved model directory, or models:/NAME@ALIAS | models:/NAME/N")
    p.add_argument("--input", required=True, help="JSON lines, one {\"text\": ..., \"id\": ...} per note (- for stdin)")
    p.add_argument("--output", required=True, help="JSON lines out, written atomically; never the input (- for stdout)")
    from mtclin.deid import PHI_TASK

    p.add_argument("--task", default=PHI_TASK, help=f"the model's PHI head (default {PHI_TASK})")
    p.add_argument("--surrogates", action="store_true", help="number each distinct PHI string of a note: "
                   "[DOCTOR-1], [DOCTOR-2], the same string the same tag within the note")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=_cmd_deid)

    p = sub.add_parser("export", help="one ONNX graph (encoder + every head) + tokenizer + tasks.json, for serving")
    p.add_argument("--model", required=True, help="a saved model directory, or models:/NAME@ALIAS (MLflow registry "
                   "at MLFLOW_TRACKING_URI, default the project's mlflow.db)")
    p.add_argument("--format", default="onnx", choices=["onnx"])
    p.add_argument("--quantize", choices=["int8"], help="dynamic int8 quantisation of the encoder (default: fp32)")
    p.add_argument("--out", required=True, help="the export directory to write (replaced atomically)")
    p.set_defaults(func=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (CorpusFormatError, FileExistsError, FileNotFoundError, KeyError, ValueError) as err:  # incl. RequestError
        print(f"mtclin {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
