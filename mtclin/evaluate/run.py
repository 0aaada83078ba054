"""Evaluate one task of a multitask model on its encoded test split.

NER is scored on decoded character spans against the reader's gold spans (so alignment, windowing and decoding
errors count, as they would for a user); NLI by accuracy and macro-F1; STS by Pearson/Spearman on the clipped
[0, 5] prediction.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from mtclin.data.collate import length_sorted_batches
from mtclin.data.decode import decode_rows, gold_by_doc
from mtclin.evaluate.metrics import classification_metrics, correlation_metrics, span_prf
from mtclin.model.heads import RegressionHead
from mtclin.tasks import TaskSpec
from mtclin.data.task_data import TaskData


@torch.inference_mode()
def predict_task(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                 dtype: torch.dtype | None = None) -> list[Any]:
    """Per encoder item: NER (tag ids per token, probability per token); NLI (class, probabilities); STS score."""
    model.eval()
    out: list[Any] = [None] * len(data.items)
    name, kind = data.spec.name, data.spec.kind
    for indices in length_sorted_batches(data.lengths, batch_size):
        batch = {k: v.to(device) for k, v in data.collate(indices, pad_id).items() if k != "labels"}
        with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
            logits = model(name, **batch)["logits"].float()
        if kind == "sts":
            values = RegressionHead.predict(logits).cpu().tolist()
        else:
            probs = logits.softmax(-1)
            best, ids = probs.max(-1)
            values = list(zip(ids.cpu().numpy(), best.cpu().numpy()))
        for i, v in zip(indices, values):
            out[i] = v
    return out


def evaluate_task(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                  dtype: torch.dtype | None = None) -> dict[str, Any]:
    """The task's metrics: NER precision/recall/f1 (+ per_type); NLI accuracy/macro_f1 (+ confusion);
    STS pearson/spearman."""
    preds = predict_task(model, data, device, batch_size, pad_id, dtype)
    spec = data.spec
    if spec.kind == "ner":
        pred_spans = decode_rows(data.rows, data.items, [p[0] for p in preds], spec.tag_labels,
                                 [p[1] for p in preds])
        return span_prf(gold_by_doc(data.rows), pred_spans)
    if spec.kind == "nli":
        gold = [row["label"] for row in data.rows]
        predicted = [spec.tag_labels[int(p[0])] for p in preds]
        return classification_metrics(gold, predicted, list(spec.tag_labels))
    return correlation_metrics([float(row["score"]) for row in data.rows], [float(p) for p in preds])


def overall_score(tasks: Sequence[TaskSpec], metrics: Mapping[str, Mapping[str, Any]]) -> float:
    """The mean of every task's primary metric: how the paper picks the reported epoch."""
    return float(np.mean([metrics[t.name][t.primary_metric] for t in tasks]))
