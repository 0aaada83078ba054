"""Serving a saved multitask model: every task's output from one encoder pass.

``predict(texts)``: every NER task's entities per text, each window encoded once and read by all NER heads.
``predict_pairs(pairs)``: both entailment tasks' labels with probabilities and the STS score, one encoder pass.

Backends: ``torch`` (the saved model directory, eager PyTorch on any device) or ``onnx`` (an export directory from
``mtclin export --format onnx``, ONNX Runtime on the CPU, fp32 or int8). Only the step "encoder + heads on a
collated batch -> logits per task" differs (``model.forward_heads``); encoding, batching, softmax and span decoding
are this module's, the same for both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from mtclin.data.collate import collate_ner, collate_pairs, length_sorted_batches
from mtclin.data.decode import decode_texts
from mtclin.data.encode_ner import encode_texts
from mtclin.data.encode_pairs import encode_pairs
from mtclin.model.heads import RegressionHead
from mtclin.model.io import ModelMeta, load_model, resolve_device


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
        into the text)."""
        if not self.ner_tasks:
            return [{} for _ in texts]
        windows, spans = encode_texts(list(texts), self.tokenizer, self.meta.max_length, self.meta.stride)
        names = [t.name for t in self.ner_tasks]
        tag_ids: dict[str, list[Any]] = {n: [None] * len(windows) for n in names}
        probs: dict[str, list[Any]] = {n: [None] * len(windows) for n in names}
        for indices in length_sorted_batches([len(w) for w in windows], self.batch_size):
            batch = collate_ner([windows[i] for i in indices], self.tokenizer.pad_token_id)
            batch = {k: v.to(self.device) for k, v in batch.items() if k != "labels"}
            logits = self.model.forward_heads(names, **batch)  # one encoder pass, every NER head
            for name, value in logits.items():
                best, ids = value.float().softmax(-1).max(-1)  # (B, T)
                # one device->host copy per head and batch (a copy per row syncs the GPU B times)
                best, ids = best.cpu().numpy(), ids.cpu().numpy()
                for row, i in enumerate(indices):
                    tag_ids[name][i] = ids[row]
                    probs[name][i] = best[row]
        out: list[dict[str, list[dict[str, Any]]]] = [{} for _ in texts]
        for task in self.ner_tasks:
            decoded = decode_texts(spans, windows, tag_ids[task.name], task.tag_labels, probs[task.name])
            for i, entities in enumerate(decoded):
                out[i][task.name] = [{"start": s, "end": e, "type": t, "score": round(float(p), 6)}
                                     for s, e, t, p in entities]
        return out

    @torch.inference_mode()
    def predict_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, dict[str, Any]]]:
        """Per pair: ``{task: {"label", "probabilities"}}`` for entailment tasks, ``{task: {"score"}}`` for STS."""
        if not self.pair_tasks:
            return [{} for _ in pairs]
        rows = [{"a": a, "b": b} for a, b in pairs]
        # the label list does not matter for unlabelled rows; kind "sts" encodes the same inputs without labels
        examples = encode_pairs(rows, self.tokenizer, "sts", (), self.meta.pair_max_length)
        names = [t.name for t in self.pair_tasks]
        out: list[dict[str, dict[str, Any]]] = [{} for _ in pairs]
        for indices in length_sorted_batches([len(e) for e in examples], self.batch_size):
            batch = collate_pairs([examples[i] for i in indices], self.tokenizer.pad_token_id)
            batch = {k: v.to(self.device) for k, v in batch.items() if k != "labels"}
            logits = self.model.forward_heads(names, **batch)  # one encoder pass, every pair head
            for task in self.pair_tasks:
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
        return out
