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
    from mtclin.corpora.registry import SPLITS, read_corpus
    from mtclin.preprocess.stats import corpus_stats

    splits = args.splits.split(",") if args.splits else SPLITS
    corpus = read_corpus(args.corpus, Path(args.dir), splits=splits, lenient=args.lenient)
    stats = corpus_stats(corpus)
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
    else:
        for split, s in stats["splits"].items():
            print(f"{args.corpus} {split}: " + ", ".join(f"{k}={v}" for k, v in s.items() if not isinstance(v, dict)))
        print(f"problems: {stats['problems']['count']}")
        for p in stats["problems"]["items"]:
            print(f"  {p['file']}:{p['position']}: {p['message']}")
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
    from mtclin.corpora.registry import CORPORA
    from mtclin.train.config import TrainConfig

    values = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    corpora = args.corpora.split(",") if args.corpora else list(CORPORA)
    values["corpora"] = tuple(CORPORA if corpora == ["all"] else corpora)
    values["batch_sizes"] = _key_ints(args.batch_size_for)
    values["max_lengths"] = _key_ints(args.max_length_for)
    return TrainConfig.from_dict(values)


def _key_ints(items: Sequence[str] | None) -> dict[str, int]:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not value.isdigit():
            raise ValueError(f"{item!r}: expected TASK=INTEGER")
        out[key] = int(value)
    return out


def _cmd_train(args: argparse.Namespace) -> int:
    from mtclin.train.loop import train

    config = _train_config(args)
    result = train(config, resume=not args.no_resume)
    for record in result.history:
        for task, metrics in record["metrics"].items():
            shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
            print(f"epoch {record['epoch']} {task}: {shown}")
        print(f"epoch {record['epoch']} score (mean primary metric): {record['score']:.4f}")
    print(f"best epoch {result.best_epoch}; model: {result.model_dir}; metrics: {result.output_dir / 'metrics.json'}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtclin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-corpora", help="write the eight sample corpora in their official raw formats")
    p.add_argument("dir", help="data directory; each corpus goes to DIR/<corpus>")
    p.add_argument("--corpora", nargs="+", default=["all"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0, help="multiplies the number of documents/pairs")
    p.add_argument("--skip-existing", action="store_true", help="leave corpora whose directory holds files")
    p.set_defaults(func=_cmd_sample_corpora)

    p = sub.add_parser("inspect", help="read a release and count what is in it (check it before GPU time)")
    p.add_argument("corpus")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lenient", action="store_true", help="collect every problem instead of stopping at the first")
    p.add_argument("--splits", help="comma-separated splits to read (default train,test)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("preprocess", help="raw release -> processed parquet tables + stats (a DVC stage)")
    p.add_argument("corpus")
    p.add_argument("--data", required=True, help="the corpus's raw directory, e.g. data/i2b2-2010")
    p.add_argument("--out", required=True, help="output directory, e.g. processed/i2b2-2010")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--lenient", action="store_true")
    p.set_defaults(func=_cmd_preprocess)

    p = sub.add_parser("train", help="train the multitask model (or one task: single-task fine-tuning)")
    p.add_argument("--corpora", help="comma-separated corpora, or 'all' (default)")
    p.add_argument("--processed-dir", dest="processed_dir")
    p.add_argument("--output-dir", "--output", dest="output_dir")
    p.add_argument("--encoder", help="HF model id or local path; 'minilm' = the packaged MiniLM-L6 (default)")
    p.add_argument("--schedule", choices=["round_robin", "loss_sum", "proportional", "temperature"])
    for name, kind in (("temperature", float), ("epochs", int), ("learning-rate", float), ("weight-decay", float),
                       ("ner-batch-size", int), ("pair-batch-size", int), ("max-length", int), ("stride", int),
                       ("pair-max-length", int), ("grad-clip", float), ("seed", int), ("checkpoint-every", int),
                       ("max-steps", int), ("eval-batch-size", int), ("limit-train", int), ("limit-eval", int),
                       ("dropout", float)):
        p.add_argument(f"--{name}", dest=name.replace("-", "_"), type=kind)
    p.add_argument("--batch-size-for", nargs="*", metavar="TASK=N", help="per-task batch size")
    p.add_argument("--max-length-for", nargs="*", metavar="TASK=N", help="per-task max length")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--no-amp", dest="amp", action="store_false", default=None)
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help='JSON lines in ({"text": ...} or {"a": ..., "b": ...}), JSON lines out')
    p.add_argument("--model", required=True, help="a saved model directory")
    p.add_argument("--input", default="-")
    p.add_argument("--output", default="-")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=_cmd_predict)
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
