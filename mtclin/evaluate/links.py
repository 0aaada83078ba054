"""Scoring assertion and relation tasks on their encoded split (gold entities), and relations end to end.

- assertion: every gold entity of the task's entity types with an assertion value; micro precision / recall / F1
  (an entity no window holds whole gets no prediction: a miss), ``accuracy`` (correct / gold; equal to micro-F1
  when every entity is predicted), macro-F1 and ``per_class``.
- relation, on gold entities (n2c2-2018 track 2 "relations"): every gold relation of the rows (a relation cut by
  segmentation or beyond the candidate limit is a miss) against the predicted pairs; exact match of (arg1 span,
  arg2 span, type), micro P/R/F1 and ``per_type``.
- relation ``end_to_end`` (track 2 "end-to-end"), when the model also has the source NER task: the same rows'
  entities predicted by that task, their candidate pairs classified, matched against gold by argument spans and
  types as above; reported beside, not the primary metric.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import nullcontext
from typing import Any, Sequence

import torch

from mtclin.data.collate import length_sorted_batches
from mtclin.data.collate_links import collate_links
from mtclin.data.decode_links import LinkScores, decide_entities, decide_pairs, entities_from_spans, link_scores
from mtclin.data.encode_links import LinkItem, link_items, row_entities
from mtclin.data.task_data import TaskData
from mtclin.evaluate.metrics import _prf, _ratio

Arg = tuple[int, int, str]  # (start, end, entity type)


@torch.inference_mode()
def predict_links(model: torch.nn.Module, task: str, kind: str, items: Sequence[LinkItem], device: torch.device,
                  batch_size: int, pad_id: int, dtype: torch.dtype | None = None) -> list[LinkScores]:
    """Per item: its candidates' (class, probability), from one forward pass per batch."""
    model.eval()
    out: list[Any] = [None] * len(items)
    for indices in length_sorted_batches([len(i) for i in items], batch_size):
        chosen = [items[i] for i in indices]
        batch = {k: v.to(device) for k, v in collate_links(chosen, pad_id, kind).items() if k != "labels"}
        with torch.autocast(device.type, dtype=dtype) if dtype else nullcontext():
            logits = model(task, **batch)["logits"]
        for i, scores in zip(indices, link_scores(logits, [c.candidates for c in chosen])):
            out[i] = scores
    return out


def _micro(tp: Counter, fp: Counter, fn: Counter) -> dict[str, Any]:
    out: dict[str, Any] = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    out["per_type"] = {t: _prf(tp[t], fp[t], fn[t]) for t in sorted(set(tp) | set(fp) | set(fn))}
    return out


def assertion_metrics(data: TaskData, scores: Sequence[LinkScores]) -> dict[str, Any]:
    spec = data.spec
    decided = decide_entities(data.items, scores)  # type: ignore[arg-type]
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    gold_total = 0
    for index, row in enumerate(data.rows):
        for key, typ, value in zip(row.get("gold_ids") or (), row["gold_types"], row.get("gold_assertions") or ()):
            if value is None or typ not in spec.entity_types:
                continue
            gold_total += 1
            found = decided.get((index, key))
            predicted = spec.labels[found[1][0]] if found is not None else None
            if predicted == value:
                tp[value] += 1
            else:
                fn[value] += 1
                if predicted is not None:
                    fp[predicted] += 1
    out = _micro(tp, fp, fn)
    out["per_class"] = out.pop("per_type")
    present = [m["f1"] for m in out["per_class"].values()]
    out["accuracy"] = _ratio(sum(tp.values()), gold_total)
    out["macro_f1"] = sum(present) / len(present) if present else 0.0
    return out


def _gold_relations(rows: Sequence[dict[str, Any]]) -> dict[str, set[tuple[Arg, Arg, str]]]:
    """Per document: every gold relation as (arg1, arg2, type), arguments as spans (ids resolved over the
    document's rows: a relation cut by segmentation still counts)."""
    spans: dict[tuple[str, str], Arg] = {}
    for row in rows:
        for key, s, e, t in zip(row.get("gold_ids") or (), row["gold_starts"], row["gold_ends"], row["gold_types"]):
            spans[(row["doc_id"], key)] = (int(s), int(e), t)
    out: dict[str, set[tuple[Arg, Arg, str]]] = defaultdict(set)
    for row in rows:
        doc = row["doc_id"]
        out[doc]  # a document without relations is still scored
        for typ, a, b in zip(row.get("rel_types") or (), row.get("rel_arg1") or (), row.get("rel_arg2") or ()):
            if (doc, a) in spans and (doc, b) in spans:
                out[doc].add((spans[(doc, a)], spans[(doc, b)], typ))
    return out


def _predicted_relations(rows: Sequence[dict[str, Any]], items: Sequence[LinkItem], scores: Sequence[LinkScores],
                         labels: Sequence[str]) -> dict[str, set[tuple[Arg, Arg, str]]]:
    out: dict[str, set[tuple[Arg, Arg, str]]] = defaultdict(set)
    for (example, _, _), (a, b, (cls, _)) in decide_pairs(items, scores).items():
        if cls:  # 0 = none
            out[rows[example]["doc_id"]].add(((a.start, a.end, a.type), (b.start, b.end, b.type), labels[cls - 1]))
    return out


def relation_prf(gold: dict[str, set], pred: dict[str, set]) -> dict[str, Any]:
    """Exact-match micro P/R/F1 of (arg1, arg2, type) per document, and per type."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for doc in set(gold) | set(pred):
        g, p = gold.get(doc, set()), pred.get(doc, set())
        tp.update(r[2] for r in g & p)
        fp.update(r[2] for r in p - g)
        fn.update(r[2] for r in g - p)
    return _micro(tp, fp, fn)


def relation_metrics(data: TaskData, scores: Sequence[LinkScores]) -> dict[str, Any]:
    gold = _gold_relations(data.rows)
    out = relation_prf(gold, _predicted_relations(data.rows, data.items, scores, data.spec.labels))  # type: ignore
    out["max_pair_chars"] = data.spec.max_pair_chars
    return out


def end_to_end(model: torch.nn.Module, data: TaskData, device: torch.device, batch_size: int, pad_id: int,
               dtype: torch.dtype | None = None) -> dict[str, Any] | None:
    """Relations on the entities the model's source NER task predicts for the same rows (None without that task)."""
    from mtclin.evaluate.run import predict_ner_spans

    spec = data.spec
    ner_spec = getattr(model, "tasks", {}).get(spec.source)
    if ner_spec is None or ner_spec.kind != "ner":
        return None
    windows = [item.window for item in data.items]  # type: ignore[union-attr]
    predicted = predict_ner_spans(model, TaskData(ner_spec, data.rows, windows), device, batch_size, pad_id, dtype)
    entities = [entities_from_spans(spans, row["starts"], row["ends"]) for spans, row in zip(predicted, data.rows)]
    items = link_items(windows, entities, spec)
    scores = predict_links(model, spec.name, spec.kind, items, device, batch_size, pad_id, dtype)
    return relation_prf(_gold_relations(data.rows), _predicted_relations(data.rows, items, scores, spec.labels))


def unaligned_entities(rows: Sequence[dict[str, Any]]) -> int:
    """Gold entities not on word boundaries (never candidates)."""
    return sum(row_entities(row)[1] for row in rows)
