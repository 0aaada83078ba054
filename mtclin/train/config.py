"""The training configuration: one frozen dataclass, written into every checkpoint and MLflow run."""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from mtclin.corpora.registry import CORPORA
from mtclin.corpora.types import LINK_KINDS

WINDOWED = ("ner",) + LINK_KINDS  # task kinds encoded as NER windows

# selection -> (splits trained on, split the best epoch is chosen on)
SELECTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "dev": (("train",), "dev"),  # honest: choose on dev, score test once for the chosen model
    "paper": (("train", "dev"), "test"),  # the paper's protocol: train+dev merged, best epoch on TEST (optimistic)
}


def selection_splits(selection: str) -> tuple[tuple[str, ...], str]:
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r}; known: {', '.join(SELECTIONS)}")
    return SELECTIONS[selection]


def setting_choices() -> dict[str, tuple[str, ...]]:
    """The settings with a fixed set of values, and those values: the CLI's choices, the flows' enums."""
    from mtclin.train.schedules import SCHEDULES

    return {"schedule": SCHEDULES.names(), "selection": tuple(SELECTIONS)}


def setting(default: Any = MISSING, help: str = "", *, factory: Any = MISSING) -> Any:
    """A config field with its why (the help text the CLI shows)."""
    return field(default=default, default_factory=factory, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    corpora: tuple[str, ...] = setting(CORPORA, "one task per corpus; a single corpus = single-task fine-tuning")
    processed_dir: str = setting("processed", "processed/<corpus>/{train,dev,test}.parquet (DVC stage outputs)")
    output_dir: str = setting("runs/default", "checkpoints/, model/ (selected epoch), metrics.json")
    encoder: str = setting("minilm", "HF model id or local path; 'minilm' = the packaged MiniLM-L6 BERT")
    init: str = setting("", "start from a trained model's encoder: a model directory or models:/NAME@ALIAS "
                            "(replaces encoder)")
    keep_heads: bool = setting(False, "with init: keep its heads (old tasks are carried along, not trained, "
                                      "and their test loss is reported)")
    schedule: str = setting("round_robin", "round_robin is the paper's; see mtclin.train.schedules")
    temperature: float = setting(2.0, "only for schedule=temperature: sampling ∝ batches^(1/T)")
    epochs: int = setting(3, "the most epochs; patience may stop sooner")
    selection: str = setting("dev", "dev: best epoch on dev, test scored once | paper: train+dev, best epoch on test")
    patience: int = setting(2, "stop after this many epochs without a better selection score (0: never stop early)")
    learning_rate: float = setting(5e-5, "paper: constant 5e-5, no warm-up or decay")
    head_learning_rate: float = setting(0.0, "the task heads' learning rate (0: learning_rate, the paper's); a "
                                             "freshly initialised span head may learn faster with more")
    weight_decay: float = setting(0.0, "paper: none")
    ner_batch_size: int = setting(25, "paper: NER batches of 25 sequences")
    pair_batch_size: int = setting(40, "paper: STS/entailment batches of 40")
    batch_sizes: dict[str, int] = setting(factory=dict, help="per-task batch size, e.g. i2b2-2014=16")
    max_length: int = setting(128, "NER window length in subwords (paper 512; clinical sentences are mostly short)")
    stride: int = setting(32, "subwords of overlap between NER windows")
    pair_max_length: int = setting(128, "[CLS] a [SEP] b [SEP], longest-first truncation")
    max_lengths: dict[str, int] = setting(factory=dict, help="per-task length (NER window or pair), e.g. quaero-2014=256")
    ner_heads: dict[str, str] = setting(factory=dict, help="per-task NER head, bio | span, e.g. quaero-2014=span "
                                        "(default: the corpus declaration's ner_head, else bio)")
    max_span_widths: dict[str, int] = setting(factory=dict, help="span heads: longest candidate span in words, "
                                              "e.g. quaero-2014=12 (default: the narrowest width covering 0.99 of "
                                              "the train gold entities)")
    span_threshold: float = setting(0.5, "span heads: a span is an entity when P(not none) >= this")
    tune_span_threshold: bool = setting(True, "span heads: choose the threshold on the selection split each epoch "
                                              "(saved with the model; else span_threshold)")
    relation_max_chars: int = setting(300, "relation tasks: candidate entity pairs at most this many characters "
                                           "apart (docs/benchmarks.md: what it costs in recall)")
    dropout: float = setting(0.1, "BERT's own")
    grad_clip: float = setting(1.0, "max global grad norm; 0 disables")
    seed: int = setting(0, "heads' initialisation, shuffling, dropout and sampled schedules")
    amp: bool = setting(True, "bf16 (or fp16 + loss scaling) autocast on CUDA; ignored on CPU")
    device: str = setting("auto", "auto | cpu | cuda | cuda:N")
    checkpoint_every: int = setting(0, "also checkpoint every N optimisation steps (0: only at epoch ends)")
    keep_checkpoints: int = setting(2, "the newest N checkpoints are kept")
    max_steps: int = setting(0, "stop after this many steps in total (0: run all epochs); a checkpoint is written")
    eval_batch_size: int = setting(64, "sequences per evaluation batch (no gradients: larger than training's)")
    limit_train: int = setting(0, "use only the first N train rows per task (0: all); quick runs and tests")
    train_fraction: float = setting(1.0, "train on a seeded share of each task's train split (documents for NER): "
                                         "learning curves")
    limit_eval: int = setting(0, "use only the first N dev/test rows per task (0: all)")
    progress: bool = setting(True, "tqdm progress bar (rank 0 only)")
    log_every_steps: int = setting(100, "progress lines to the run's log (Prefect) every N steps...")
    log_every_seconds: float = setting(60.0, "...and at least this often, however slow the steps")

    def batch_size(self, task: str, kind: str) -> int:
        """NER windows (NER, assertion, relation tasks) take the NER batch size, pairs the pair one."""
        return self.batch_sizes.get(task, self.ner_batch_size if kind in WINDOWED else self.pair_batch_size)

    def max_length_for(self, task: str, kind: str) -> int:
        return self.max_lengths.get(task, self.max_length if kind in WINDOWED else self.pair_max_length)

    def on_corpora(self, corpora: tuple[str, ...]) -> "TrainConfig":
        """This config trained on ``corpora`` only (a single-task run of a grid): the per-task settings of other
        tasks are dropped, since they change nothing in the run but would change its run key."""
        per_task = {f.name: {t: v for t, v in getattr(self, f.name).items() if t in corpora}
                    for f in fields(self) if isinstance(getattr(self, f.name), dict)}
        return replace(self, corpora=tuple(corpora), **per_task)

    def __post_init__(self) -> None:
        from mtclin.tasks import NER_HEADS

        for task, head in self.ner_heads.items():
            if head not in NER_HEADS:
                raise ValueError(f"ner_heads: {task}={head!r}: use one of {', '.join(NER_HEADS)}")
        for task, width in self.max_span_widths.items():
            if not isinstance(width, int) or width < 1:
                raise ValueError(f"max_span_widths: {task}={width!r}: a width in words, >= 1")

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
