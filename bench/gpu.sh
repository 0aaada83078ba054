#!/usr/bin/env bash
# The GPU benchmarks, in one go on a CUDA machine (results in bench/results/*-cuda.json):
#   1. bench.inference, bench.training, bench.serving with --device cuda (serving: the torch backend and the
#      peer pipelines in bf16 on the GPU; ONNX Runtime stays on the CPU);
#   2. one epoch of round robin over the sample corpora scaled to the paper's training-set sizes (PAPER.md,
#      Table 1), max length 512, the paper's batches (NER 25, pairs 40), bf16 autocast (the loop's default on CUDA).
#
#   bash bench/gpu.sh [--dry-run] [--work DIR]
#
# --dry-run: on any machine, CUDA or not: parses every benchmark's and the training run's exact arguments with
# their own parsers, builds the training config, and derives the corpus scales (writes the scale-1 samples and
# preprocesses them); prints what it would run and runs nothing on a device.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WORK=${WORK:-${TMPDIR:-/tmp}/mtclin-gpu}
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --work) WORK=$2; shift ;;
    *) echo "usage: bash bench/gpu.sh [--dry-run] [--work DIR]" >&2; exit 2 ;;
  esac
  shift
done
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1 MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1

INFERENCE_ARGS=(--device cuda --notes 100 --pairs 500)
TRAINING_ARGS=(--device cuda)
SERVING_ARGS=(--device cuda --dtype bf16 --work "$WORK/serving")
TRAIN_ARGS=(train --corpora all --processed-dir "$WORK/paper/processed" --output-dir "$WORK/paper/run"
            --schedule round_robin --epochs 1 --max-length 512 --pair-max-length 512 --stride 128
            --ner-batch-size 25 --pair-batch-size 40 --device cuda --no-resume)

# Every argument list through its own parser (and the training config through TrainConfig): typos fail here,
# on the CPU, not after the GPU machine has started.
"$PY" - "${#INFERENCE_ARGS[@]}" "${INFERENCE_ARGS[@]}" "${#TRAINING_ARGS[@]}" "${TRAINING_ARGS[@]}" \
  "${#SERVING_ARGS[@]}" "${SERVING_ARGS[@]}" "${TRAIN_ARGS[@]}" <<'EOF'
import sys

import bench.inference, bench.serving, bench.training
from mtclin.cli import _train_config, build_parser

rest = sys.argv[1:]
for module in (bench.inference, bench.training, bench.serving):
    n = int(rest[0])
    module.parse_args(rest[1:1 + n])
    rest = rest[1 + n:]
config = _train_config(build_parser().parse_args(rest))
print(f"# arguments parse; training: {config.schedule}, {config.epochs} epoch, max length {config.max_length}/"
      f"{config.pair_max_length}, batches {config.ner_batch_size}/{config.pair_batch_size}, device {config.device}")
EOF

# Scales that bring each sample corpus to the paper's number of training instances (train + dev rows), derived
# from what scale 1 gives: the paper's counts are the one declaration.
SCALES=$("$PY" - "$WORK/scale1" <<'EOF'
import json, sys
from pathlib import Path

import polars as pl

from mtclin.corpora.registry import CORPORA
from mtclin.corpora.samples import write_samples
from mtclin.params import load_preprocess_config
from mtclin.preprocess.run import preprocess_corpus

PAPER_TRAIN = {"n2c2-2019": 1641, "mednli": 12627, "medrqe": 8588, "n2c2-2018": 36384, "i2b2-2014": 17310,
               "i2b2-2012": 16468, "i2b2-2010": 27837, "quaero-2014": 2695}  # PAPER.md, Table 1
work = Path(sys.argv[1])
write_samples(work / "data", corpora=CORPORA, seed=0, skip_existing=True)
scales = {}
for corpus in CORPORA:
    config, lenient = load_preprocess_config(Path("params.yaml"), corpus)
    preprocess_corpus(corpus, work / "data" / corpus, work / "processed" / corpus, config, lenient=lenient)
    rows = sum(pl.read_parquet(p).height for p in (work / "processed" / corpus).glob("*.parquet")
               if p.stem in ("train", "dev"))
    scales[corpus] = round(PAPER_TRAIN[corpus] / rows, 2)
print(json.dumps(scales))
EOF
)
echo "# corpus scales for the paper's sizes: $SCALES"

if [ "$DRY" = 1 ]; then
  echo "# dry run: would run"
  echo "  $PY -m bench.inference ${INFERENCE_ARGS[*]}"
  echo "  $PY -m bench.training ${TRAINING_ARGS[*]}"
  echo "  $PY -m bench.serving ${SERVING_ARGS[*]}"
  echo "  mtclin sample-corpora $WORK/paper/data --corpora C --scale S   (per corpus, the scales above)"
  echo "  mtclin preprocess C ...; mtclin ${TRAIN_ARGS[*]}"
  exit 0
fi

"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: use --dry-run here')"
"$PY" -m bench.inference "${INFERENCE_ARGS[@]}"
"$PY" -m bench.training "${TRAINING_ARGS[@]}"
"$PY" -m bench.serving "${SERVING_ARGS[@]}"

# one epoch at the paper's sizes
for corpus in $("$PY" -c "import json, sys; print(' '.join(json.loads(sys.argv[1])))" "$SCALES"); do
  scale=$("$PY" -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$SCALES" "$corpus")
  "$PY" -m mtclin.cli sample-corpora "$WORK/paper/data" --corpora "$corpus" --scale "$scale" --skip-existing
  "$PY" -m mtclin.cli preprocess "$corpus" --data "$WORK/paper/data/$corpus" \
    --out "$WORK/paper/processed/$corpus" --params params.yaml
done
start=$(date +%s)
"$PY" -m mtclin.cli "${TRAIN_ARGS[@]}" | tee "$WORK/paper/train.log"
echo "# one round-robin epoch at the paper's sizes, max length 512: $(( $(date +%s) - start )) s" \
  | tee -a "$WORK/paper/train.log"
