"""Evaluate a saved model on a corpus release as its owner distributes it: read through the corpus's reader,
turned into the same tables preprocessing writes, scored by the same code as training's evaluation.

How a user checks a registered model on a new release, or on another hospital's annotations in the same format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mtclin.corpora.registry import DEV, corpus_info, read_corpus
from mtclin.data.task_data import encode_task
from mtclin.evaluate.run import evaluate_task, overall_score
from mtclin.model.io import load_model
from mtclin.preprocess.dev_split import with_dev
from mtclin.preprocess.tables import PreprocessConfig, split_table


def evaluate_release(model_dir: Path, corpus: str, data_dir: Path, split: str = "test", task: str | None = None,
                     lenient: bool = False, batch_size: int = 64, device: str = "cpu",
                     preprocess: PreprocessConfig = PreprocessConfig()) -> dict[str, Any]:
    """Score head ``task`` (default: the head named like the corpus) of the model in ``model_dir`` on ``split``
    of the ``corpus`` release under ``data_dir``. ``dev`` is the release's own or the carve-out preprocessing
    makes (same fraction and seed). Returns ``{"corpus", "split", "examples", "problems", "metrics": {task: ...},
    "score"}`` (the same shape as :func:`evaluate_saved_model`); problems are counted (and raise in strict mode),
    never quoted."""
    info = corpus_info(corpus)
    if split not in (*info.splits, DEV):
        raise ValueError(f"unknown split {split!r} for {corpus}; known: {', '.join(dict.fromkeys((*info.splits, DEV)))}")
    dev = torch.device(device)
    model, tokenizer, meta = load_model(Path(model_dir), dev)
    name = task or corpus
    spec = next((t for t in meta.tasks if t.name == name), None)
    if spec is None:
        raise KeyError(f"{model_dir}: the model has no task {name!r} (it has {', '.join(t.name for t in meta.tasks)});"
                       " pass --task to score one of its heads on this corpus")
    if spec.kind != info.kind:
        raise ValueError(f"task {name!r} is {spec.kind} but corpus {corpus!r} is {info.kind}")
    if spec.kind == "nli" and set(info.labels) - set(spec.labels):
        raise ValueError(f"corpus {corpus!r} has labels {sorted(set(info.labels) - set(spec.labels))} that task "
                         f"{name!r} cannot predict")
    splits = ("train", *([DEV] if DEV in info.splits else [])) if split == DEV else (split,)
    read = read_corpus(corpus, Path(data_dir), splits=splits, lenient=lenient)
    if split == DEV:
        read, _ = with_dev(read, preprocess.dev_fraction, preprocess.dev_seed)
    rows = split_table(read, split, preprocess).to_dicts()
    if not rows:
        raise ValueError(f"{data_dir}: split {split!r} of {corpus} has no examples")
    data = encode_task(spec, rows, tokenizer, meta.length_for(spec), meta.stride)
    metrics = {name: evaluate_task(model, data, dev, batch_size, tokenizer.pad_token_id)}
    return {"corpus": corpus, "split": split, "examples": len(read.splits[split]), "problems": len(read.problems),
            "metrics": metrics, "score": overall_score([spec], metrics)}
