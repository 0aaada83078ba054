"""The training configuration: one frozen dataclass, written into every checkpoint and MLflow run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mtclin.corpora.registry import CORPORA


@dataclass(frozen=True)
class TrainConfig:
    corpora: tuple[str, ...] = CORPORA  # one task per corpus; a single corpus = single-task fine-tuning
    processed_dir: str = "processed"  # processed/<corpus>/{train,test}.parquet (the DVC stage outputs)
    output_dir: str = "runs/default"  # checkpoints/, model/ (best epoch), metrics.json
    encoder: str = "minilm"  # HF model id or local path; "minilm" = the packaged MiniLM-L6 BERT
    schedule: str = "round_robin"  # round_robin (paper) | loss_sum | proportional | temperature
    temperature: float = 2.0  # only for schedule=temperature: sampling ∝ batches^(1/T)
    epochs: int = 3
    learning_rate: float = 5e-5  # paper: constant 5e-5, no warm-up or decay
    weight_decay: float = 0.0  # paper: none
    ner_batch_size: int = 25  # paper: NER batches of 25 sequences
    pair_batch_size: int = 40  # paper: STS/entailment batches of 40
    batch_sizes: dict[str, int] = field(default_factory=dict)  # per-task override, e.g. {"i2b2-2014": 16}
    max_length: int = 128  # NER window length in subwords (paper 512; clinical sentences are mostly short)
    stride: int = 32  # subwords of overlap between NER windows
    pair_max_length: int = 128  # [CLS] a [SEP] b [SEP], longest-first truncation
    max_lengths: dict[str, int] = field(default_factory=dict)  # per-task override of the two above
    dropout: float = 0.1  # BERT's own
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    seed: int = 0
    amp: bool = True  # bf16 (or fp16 + loss scaling) autocast on CUDA; ignored on CPU
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    checkpoint_every: int = 0  # also checkpoint every N optimisation steps (0: only at epoch ends)
    keep_checkpoints: int = 2
    max_steps: int = 0  # stop after this many steps in total (0: run all epochs); a checkpoint is written
    eval_batch_size: int = 64
    limit_train: int = 0  # use only the first N train rows per task (0: all); quick runs and tests
    limit_eval: int = 0  # use only the first N test rows per task (0: all)
    progress: bool = True  # tqdm progress bar (rank 0 only)

    def batch_size(self, task: str, kind: str) -> int:
        return self.batch_sizes.get(task, self.ner_batch_size if kind == "ner" else self.pair_batch_size)

    def max_length_for(self, task: str, kind: str) -> int:
        return self.max_lengths.get(task, self.max_length if kind == "ner" else self.pair_max_length)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"corpora": list(self.corpora)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise KeyError(f"unknown training settings {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        if "corpora" in values:
            values["corpora"] = tuple(values["corpora"])
        return cls(**values)
