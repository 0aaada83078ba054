"""Evaluate a saved model directory (the artifact that gets registered) on every task's test split."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from mtclin.evaluate.run import evaluate_task, overall_score
from mtclin.model.io import load_model
from mtclin.data.task_data import encode_task, load_rows


def evaluate_saved_model(model_dir: Path, processed_dir: Path, corpora: Sequence[str] | None = None,
                         limit: int = 0, batch_size: int = 64, device: str = "cpu", split: str = "test"
                         ) -> dict[str, Any]:
    """``{"metrics": {task: {...}}, "score": mean primary metric}`` for the model in ``model_dir`` on
    ``processed_dir/<task>/<split>.parquet`` (all of the model's tasks unless ``corpora`` narrows them)."""
    dev = torch.device(device)
    model, tokenizer, meta = load_model(Path(model_dir), dev)
    tasks = [t for t in meta.tasks if corpora is None or t.name in corpora]
    metrics = {}
    for spec in tasks:
        rows = load_rows(Path(processed_dir), spec.name, split, limit)
        data = encode_task(spec, rows, tokenizer, meta.length_for(spec), meta.stride)
        metrics[spec.name] = evaluate_task(model, data, dev, batch_size, tokenizer.pad_token_id)
    return {"metrics": metrics, "score": overall_score(tasks, metrics)}
