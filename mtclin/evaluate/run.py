"""Evaluate one task of a multitask model on its encoded test split.

NER is scored on decoded character spans against the reader's gold spans (so alignment, windowing and decoding
errors count, as they would for a user); NLI by accuracy and macro-F1; STS by Pearson/Spearman on the clipped
[0, 5] prediction. A span NER task also reports its ``max_span_width``, the ``threshold`` it decoded with and its
``recall_ceiling`` (the share of gold entities a span of at most that width on word boundaries can match); with
``tune_threshold`` the threshold is the one of ``THRESHOLDS`` with the best F1 on the data scored (dev).
The PHI task (``mtclin.deid.PHI_TASK``) also reports ``deid_precision`` / ``deid_recall`` / ``deid_f1`` (and
counts) of the regions de-identification would replace (``metrics.deid_prf``).
Assertion and relation tasks are scored by :mod:`mtclin.evaluate.links` (relations also end to end when the model
has their source NER task).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from mtclin.data.collate import length_sorted_batches
from mtclin.data.decode import decode_rows, decode_spans, gold_by_doc
from mtclin.data.decode_spans import example_spans, spans_by_doc
from mtclin.data.encode_spans import recall_ceiling
from mtclin.deid import PHI_TASK
from mtclin.evaluate.metrics import classification_metrics, correlation_metrics, deid_prf, span_prf
from mtclin.model.heads import RegressionHead
from mtclin.model.span_head import SpanClassificationHead
from mtclin.tasks import TaskSpec
from mtclin.data.task_data import TaskData


@torch.inference_mode()
def predict_task(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                 dtype: torch.dtype | None = None) -> list[Any]:
    """Per encoder item: NER (tag ids per token, probability per token); span NER (``decode_spans.SpanScores``:
    per candidate span P(entity), type, its probability); NLI (class, probabilities); STS score."""
    model.eval()
    out: list[Any] = [None] * len(data.items)
    name, kind = data.spec.name, data.spec.kind
    for indices in length_sorted_batches(data.lengths, batch_size):
        batch = {k: v.to(device) for k, v in data.collate(indices, pad_id).items() if k != "labels"}
        with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
            logits = model(name, **batch)["logits"].float()
        if data.spec.is_span:
            counts = (batch["span_widths"] >= 0).sum(-1).cpu().tolist()  # candidates per window (rest: padding)
            scores = [t.cpu().numpy() for t in SpanClassificationHead.predict(logits)]
            values = [tuple(t[row, :n] for t in scores) for row, n in enumerate(counts)]
        elif kind == "sts":
            values = RegressionHead.predict(logits).cpu().tolist()
        else:
            probs = logits.softmax(-1)
            best, ids = probs.max(-1)
            values = list(zip(ids.cpu().numpy(), best.cpu().numpy()))
        for i, v in zip(indices, values):
            out[i] = v
    return out


def evaluate_task(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                  dtype: torch.dtype | None = None, tune_threshold: bool = False) -> dict[str, Any]:
    """The task's metrics: NER precision/recall/f1 (+ nested_recall, per_type); NLI accuracy/macro_f1
    (+ confusion); STS pearson/spearman. ``tune_threshold``: span tasks decode with the best of ``THRESHOLDS``
    on this data instead of their own ``span_threshold``."""
    spec = data.spec
    if spec.is_link:
        return link_task_metrics(model, data, device, batch_size, pad_id, dtype)
    preds = predict_task(model, data, device, batch_size, pad_id, dtype)
    if spec.is_span:
        return span_metrics(data, preds, tune_threshold)
    if spec.kind == "ner":
        pred_spans = decode_rows(data.rows, data.items, [p[0] for p in preds], spec.tag_labels,
                                 [p[1] for p in preds])
        gold = gold_by_doc(data.rows)
        return span_prf(gold, pred_spans) | deid_metrics(spec, data.rows, gold, pred_spans)
    if spec.kind == "nli":
        gold = [row["label"] for row in data.rows]
        predicted = [spec.tag_labels[int(p[0])] for p in preds]
        return classification_metrics(gold, predicted, list(spec.tag_labels))
    return correlation_metrics([float(row["score"]) for row in data.rows], [float(p) for p in preds])


def link_task_metrics(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                      dtype: torch.dtype | None = None) -> dict[str, Any]:
    """An assertion or relation task's metrics on gold entities (relations: and ``end_to_end`` where possible)."""
    from mtclin.evaluate import links

    spec = data.spec
    scores = links.predict_links(model, spec.name, spec.kind, data.items, device, batch_size, pad_id, dtype)
    if spec.kind == "assertion":
        return links.assertion_metrics(data, scores) | {"unaligned": links.unaligned_entities(data.rows)}
    out = links.relation_metrics(data, scores)
    e2e = links.end_to_end(model, data, device, batch_size, pad_id, dtype)
    return out | ({"end_to_end": e2e} if e2e is not None else {})


def predict_ner_spans(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
                      dtype: torch.dtype | None = None) -> list[list[tuple[int, int, str, float]]]:
    """A NER task's (BIO or span) predicted entities per row, in document character offsets."""
    spec = data.spec
    preds = predict_task(model, data, device, batch_size, pad_id, dtype)
    starts, ends = [r["starts"] for r in data.rows], [r["ends"] for r in data.rows]
    if spec.is_span:
        examples = example_spans(data.items, preds, spec.max_span_width, len(data.rows))
        return [ex.entities(s, e, spec.labels, spec.span_threshold) for ex, s, e in zip(examples, starts, ends)]
    return decode_spans(data.items, [p[0] for p in preds], spec.tag_labels, starts, ends, [p[1] for p in preds])


# thresholds tried on P(entity) when tuning on dev: a coarse grid (the score is flat near its best)
THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(2, 19))  # 0.1 .. 0.9


def span_metrics(data: TaskData, preds: Sequence[Any], tune_threshold: bool) -> dict[str, Any]:
    """A span task's span scores at its threshold, or at the best of ``THRESHOLDS`` (ties: nearest 0.5)."""
    spec = data.spec
    gold = gold_by_doc(data.rows)
    examples = example_spans(data.items, preds, spec.max_span_width, len(data.rows))  # decided once, scored often
    candidates = THRESHOLDS if tune_threshold else (spec.span_threshold,)
    decoded = {t: spans_by_doc(data.rows, examples, spec.labels, t) for t in candidates}
    scored = [(span_prf(gold, decoded[t]), t) for t in candidates]
    metrics, threshold = max(scored, key=lambda m: (m[0]["f1"], -abs(m[1] - 0.5)))
    return metrics | deid_metrics(spec, data.rows, gold, decoded[threshold]) | {
        "threshold": threshold, "max_span_width": spec.max_span_width,
        "recall_ceiling": recall_ceiling(data.rows, spec.labels, spec.max_span_width)}


def deid_metrics(spec: TaskSpec, rows: Sequence[Mapping[str, Any]], gold: Mapping[str, Any],
                 predicted: Mapping[str, Any]) -> dict[str, Any]:
    """The PHI task's de-identification scores (``metrics.deid_prf``, whitespace between words exempt); ``{}`` for
    any other task."""
    if spec.name != PHI_TASK:
        return {}
    words: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        words.setdefault(row["doc_id"], []).extend(zip(row["starts"], row["ends"]))
    return deid_prf(gold, predicted, words)


def overall_score(tasks: Sequence[TaskSpec], metrics: Mapping[str, Mapping[str, Any]]) -> float:
    """The mean of every task's primary metric: how the paper picks the reported epoch."""
    return float(np.mean([metrics[t.name][t.primary_metric] for t in tasks]))
