"""Serving a saved multitask model: every task's output from one encoder pass.

``predict(texts)``: every NER task's entities per text, each window encoded once and read by all NER heads. A
span NER task (``TaskSpec.head == "span"``) may return overlapping and nested entities; a BIO task never does.
``predict_pairs(pairs)``: both entailment tasks' labels with probabilities and the STS score, one encoder pass.
Assertion and relation tasks read the entities their source NER task predicts, from the same windows' hidden
states (the encoder runs once; the light heads run on the states kept from that pass): each entity gets an ``id``,
entities of an assertion task's types their ``assertion``, and each relation task lists the relations between its
source task's entities by those ids. Only the torch backend serves them (as span tasks).

Backends: ``torch`` (the saved model directory, eager PyTorch on any device) or ``onnx`` (an export directory from
``mtclin export --format onnx``, ONNX Runtime on the CPU, fp32 or int8). Only the step "encoder + heads on a
collated batch -> logits per task" differs (``model.forward_heads``); encoding, batching, softmax and span decoding
are this module's, the same for both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from mtclin.data.collate import collate_ner, collate_pairs, collate_spans, length_sorted_batches
from mtclin.data.decode import decode_texts
from mtclin.data.collate_links import link_inputs
from mtclin.data.decode_links import decide_entities, decide_pairs, entities_from_spans, link_scores
from mtclin.data.decode_spans import decode_span_texts
from mtclin.data.encode_links import link_items
from mtclin.data.encode_ner import encode_texts
from mtclin.data.encode_pairs import encode_pairs
from mtclin.model.heads import RegressionHead
from mtclin.model.io import ModelMeta, load_model, resolve_device
from mtclin.model.span_head import SpanClassificationHead

BACKENDS = ("torch", "onnx")


class Predictor:
    """``model``: a ``MultiTaskModel`` (backend torch, on ``device``) or an ``mtclin.export.runtime.OnnxModel``
    (backend onnx; ``device`` is the CPU): anything with ``forward_heads(tasks, **batch) -> {task: logits}``."""

    def __init__(self, model: Any, tokenizer: Any, meta: ModelMeta, device: torch.device = torch.device("cpu"),
                 batch_size: int = 32):
        self.model, self.tokenizer, self.meta, self.device = model, tokenizer, meta, device
        self.backend = getattr(model, "backend", "torch")
        self.batch_size = batch_size
        self.ner_tasks = [t for t in meta.tasks if t.kind == "ner"]
        self.pair_tasks = [t for t in meta.tasks if t.kind != "ner"]
        self.span_tasks = [t for t in self.ner_tasks if t.is_span]
        self.pair_tasks = [t for t in self.pair_tasks if not t.is_link]
        ner_names = {t.name for t in self.ner_tasks}
        # a link task answers where the model has its source NER task (it needs that task's entities)
        self.link_tasks = [t for t in meta.tasks if t.is_link and t.source in ner_names]
        if self.span_tasks and self.backend != "torch":
            raise ValueError(f"span NER tasks ({', '.join(t.name for t in self.span_tasks)}) are served by the torch "
                             f"backend only (an export holds no span candidates input); use backend torch")
        linked = [t.name for t in meta.tasks if t.is_link]
        if linked and self.backend != "torch":
            raise ValueError(f"assertion / relation tasks ({', '.join(linked)}) are served by the torch backend only "
                             "(an export holds no entity inputs); use backend torch")

    @classmethod
    def load(cls, model_dir: Path | str, device: str = "auto", batch_size: int = 32, backend: str = "torch",
             threads: int = 0) -> "Predictor":
        """``backend="torch"``: ``model_dir`` is a saved model directory. ``backend="onnx"``: an export directory
        (fp32 or int8, as exported), run on the CPU with ``threads`` intra-op threads (0: ONNX Runtime's choice)."""
        if backend == "onnx":
            from mtclin.export.runtime import load_export

            if device not in ("auto", "cpu"):
                raise ValueError(f"device={device!r}: backend onnx runs on the CPU (onnxruntime's CPU package); "
                                 "use backend torch for a GPU")
            model, tokenizer, meta = load_export(model_dir, threads)
            return cls(model, tokenizer, meta, torch.device("cpu"), batch_size)
        if backend != "torch":
            raise ValueError(f"backend={backend!r}: use one of {', '.join(BACKENDS)}")
        dev = resolve_device(device)
        model, tokenizer, meta = load_model(Path(model_dir), dev)
        return cls(model, tokenizer, meta, dev, batch_size)

    @torch.inference_mode()
    def predict(self, texts: Sequence[str]) -> list[dict[str, list[dict[str, Any]]]]:
        """Per text: ``{task: [{"start", "end", "type", "score"}, ...]}`` for every NER task (character offsets
        into the text, sorted). A span task's entities may overlap or nest (the same characters carry at most one
        entity); ``score`` is the probability of the predicted type (BIO: mean over the entity's words).

        With assertion / relation tasks: every entity of their source NER task also has an ``id`` ("T1", "T2", ...
        in list order); one of an assertion task's entity types gets ``assertion`` (the value) and
        ``assertion_score``; and each relation task is a key of its own, ``{relation task: [{"type", "arg1",
        "arg2", "score"}, ...]}``, arguments being ids of its source task's entities of the same text."""
        out: list[dict[str, Any]] = [{} for _ in texts]
        # tasks trained at different window lengths are encoded at their own (one encoder pass per length)
        for length, tasks in tasks_by_length(self.ner_tasks, self.meta).items():
            self._predict_ner(texts, tasks, length, out)
        return out

    def _predict_ner(self, texts: Sequence[str], tasks: Sequence[Any], max_length: int,
                     out: list[dict[str, Any]]) -> None:
        """``tasks`` (NER tasks of one window length) and the link tasks over them, for every text (``out``)."""
        windows, spans = encode_texts(list(texts), self.tokenizer, max_length, self.meta.stride)
        names = [t.name for t in tasks]
        link_tasks = [t for t in self.link_tasks if t.source in names]
        tag_ids: dict[str, list[Any]] = {n: [None] * len(windows) for n in names}
        probs: dict[str, list[Any]] = {n: [None] * len(windows) for n in names}
        hidden: list[Any] = [None] * len(windows)  # each window's hidden states, kept for the link heads
        for indices in length_sorted_batches([len(w) for w in windows], self.batch_size):
            batch = collate_ner([windows[i] for i in indices], self.tokenizer.pad_token_id)
            batch = {k: v.to(self.device) for k, v in batch.items() if k != "labels"}
            span_inputs = self._span_inputs(tasks, [windows[i] for i in indices])
            if link_tasks:  # the same encoder pass, its states kept: (B, T, H) -> one (T_i, H) per window
                states = self.model.encode(**batch)
                logits = self.model.heads_on(names, states, span_inputs)
                for row, i in enumerate(indices):
                    hidden[i] = states[row, :len(windows[i])]
            else:
                # an ONNX model takes no head inputs (it serves no span task: see __init__)
                extra = {"head_inputs": span_inputs} if span_inputs else {}
                logits = self.model.forward_heads(names, **batch, **extra)  # one encoder pass, every NER head
            for name, value in logits.items():
                if name in span_inputs:  # span task: per window, each candidate's scores (decode_spans.SpanScores)
                    counts = (span_inputs[name]["span_widths"] >= 0).sum(-1).cpu().tolist()
                    scores = [t.cpu().numpy() for t in SpanClassificationHead.predict(value)]
                    for row, i in enumerate(indices):
                        tag_ids[name][i] = tuple(t[row, :counts[row]] for t in scores)
                    continue
                best, ids = value.float().softmax(-1).max(-1)  # (B, T)
                # one device->host copy per head and batch (a copy per row syncs the GPU B times)
                best, ids = best.cpu().numpy(), ids.cpu().numpy()
                for row, i in enumerate(indices):
                    tag_ids[name][i] = ids[row]
                    probs[name][i] = best[row]
        for task in tasks:
            if task.is_span:
                decoded = decode_span_texts(spans, windows, tag_ids[task.name], task.labels, task.max_span_width,
                                            task.span_threshold)
            else:
                decoded = decode_texts(spans, windows, tag_ids[task.name], task.tag_labels, probs[task.name])
            for i, entities in enumerate(decoded):
                out[i][task.name] = [{"start": s, "end": e, "type": t, "score": round(float(p), 6)}
                                     for s, e, t, p in entities]
            if any(t.source == task.name for t in link_tasks):
                self._link(task.name, decoded, spans, windows, hidden, out)

    def _link(self, source: str, decoded: Sequence[Sequence[Any]], spans: Sequence[Sequence[tuple[int, int]]],
              windows: Sequence[Any], hidden: Sequence[torch.Tensor], out: list[dict[str, Any]]) -> None:
        """Ids, assertions and relations for NER task ``source``'s entities of every text (``out``, in place)."""
        entities = [entities_from_spans(d, [s for s, _ in w], [e for _, e in w]) for d, w in zip(decoded, spans)]
        for i in range(len(out)):
            for k, entity in enumerate(out[i][source]):
                entity["id"] = f"T{k + 1}"
        for task in (t for t in self.link_tasks if t.source == source):
            # link_items gives one item per window, in order: k is the window whose states it reads
            items = [(k, item) for k, item in enumerate(link_items(windows, entities, task)) if item.candidates]
            scores: list[Any] = []
            order: list[Any] = []
            for indices in length_sorted_batches([len(item) for _, item in items], self.batch_size):
                chosen = [items[k] for k in indices]
                width = max(len(item) for _, item in chosen)
                # (B, T, H): the kept states, padded (padding positions are never read by the heads)
                states = torch.stack([torch.nn.functional.pad(hidden[k], (0, 0, 0, width - len(item)))
                                      for k, item in chosen])
                inputs = {n: v.to(self.device) for n, v in link_inputs([c for _, c in chosen], task.kind).items()}
                logits = self.model.heads_on([task.name], states, {task.name: inputs})[task.name]
                scores.extend(link_scores(logits, [item.candidates for _, item in chosen]))
                order.extend(item for _, item in chosen)
            if task.kind == "assertion":
                for (i, key), (_, (cls, p)) in decide_entities(order, scores).items():
                    entity = out[i][source][int(key)]
                    entity["assertion"], entity["assertion_score"] = task.labels[cls], round(p, 6)
                continue
            for i in range(len(out)):
                out[i][task.name] = []
            found = sorted(decide_pairs(order, scores).items(),
                           key=lambda kv: (kv[0][0], int(kv[0][1]), int(kv[0][2])))
            for (i, a, b), (_, _, (cls, p)) in found:
                if cls:  # 0 = none
                    out[i][task.name].append({"type": task.labels[cls - 1], "arg1": f"T{int(a) + 1}",
                                              "arg2": f"T{int(b) + 1}", "score": round(p, 6)})

    def _span_inputs(self, tasks: Sequence[Any], windows: Sequence[Any]) -> dict[str, dict[str, torch.Tensor]]:
        """Per span task of ``tasks``: the candidate spans of the batch's windows (up to its own maximum width)."""
        out = {}
        for task in (t for t in tasks if t.is_span):
            batch = collate_spans(windows, self.tokenizer.pad_token_id, task.max_span_width)
            out[task.name] = {k: batch[k].to(self.device) for k in SpanClassificationHead.inputs}
        return out

    @torch.inference_mode()
    def predict_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, dict[str, Any]]]:
        """Per pair: ``{task: {"label", "probabilities"}}`` for entailment tasks, ``{task: {"score"}}`` for STS."""
        out: list[dict[str, dict[str, Any]]] = [{} for _ in pairs]
        for length, tasks in tasks_by_length(self.pair_tasks, self.meta).items():
            self._predict_pairs(pairs, tasks, length, out)
        return out

    def _predict_pairs(self, pairs: Sequence[tuple[str, str]], tasks: Sequence[Any], max_length: int,
                       out: list[dict[str, dict[str, Any]]]) -> None:
        rows = [{"a": a, "b": b} for a, b in pairs]
        # the label list does not matter for unlabelled rows; kind "sts" encodes the same inputs without labels
        examples = encode_pairs(rows, self.tokenizer, "sts", (), max_length)
        names = [t.name for t in tasks]
        for indices in length_sorted_batches([len(e) for e in examples], self.batch_size):
            batch = collate_pairs([examples[i] for i in indices], self.tokenizer.pad_token_id)
            batch = {k: v.to(self.device) for k, v in batch.items() if k != "labels"}
            logits = self.model.forward_heads(names, **batch)  # one encoder pass, every pair head
            for task in tasks:
                value = logits[task.name].float()
                if task.kind == "sts":
                    scores = RegressionHead.predict(value).cpu().numpy()  # (B,), one copy per batch
                    for row, i in enumerate(indices):
                        out[i][task.name] = {"score": float(scores[row])}
                else:
                    p = value.softmax(-1).cpu().numpy()
                    for row, i in enumerate(indices):
                        out[i][task.name] = {
                            "label": task.tag_labels[int(p[row].argmax())],
                            "probabilities": {lab: float(x) for lab, x in zip(task.tag_labels, p[row])},
                        }


def tasks_by_length(tasks: Sequence[Any], meta: ModelMeta) -> dict[int, list[Any]]:
    """``tasks`` grouped by the encoding length each was trained with (``ModelMeta.length_for``), in task order."""
    groups: dict[int, list[Any]] = {}
    for task in tasks:
        groups.setdefault(meta.length_for(task), []).append(task)
    return groups
