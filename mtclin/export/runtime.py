"""Running an ONNX export with ONNX Runtime behind ``MultiTaskModel``'s inference interface.

``OnnxModel.forward_heads(tasks, input_ids, attention_mask, token_type_ids)`` and ``OnnxModel(task, ...)`` take the
collated torch batches and give back torch tensors of logits, as the torch model does, so ``Predictor`` and
``evaluate_task`` run either backend through the same code: only the encoder+heads step differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

MODEL_FILE = "model.onnx"
EXPORT_FILE = "export.json"


class OnnxModel:
    """One ONNX Runtime session (CPU) over an exported graph. Thread-safe: concurrent ``run`` calls are allowed."""

    backend = "onnx"

    def __init__(self, path: Path | str, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # fuses attention, GELU, norms
        if threads:
            options.intra_op_num_threads = threads  # 0: ONNX Runtime's choice (one per physical core)
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def eval(self) -> "OnnxModel":
        return self  # inference only; kept so code written for nn.Module (``model.eval()``) runs unchanged

    def _feed(self, input_ids, attention_mask, token_type_ids) -> dict[str, np.ndarray]:
        ids = np.asarray(input_ids, dtype=np.int64)
        types = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids, dtype=np.int64)
        values = {"input_ids": ids, "attention_mask": np.asarray(attention_mask, dtype=np.int64),
                  "token_type_ids": types}
        return {name: values[name] for name in self.input_names}

    def forward_heads(self, tasks: Sequence[str], input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Several heads over one encoder pass: task name -> logits (CPU torch tensors sharing ORT's arrays)."""
        unknown = [t for t in tasks if t not in self.output_names]
        if unknown:
            raise KeyError(f"{self.path}: no output for task(s) {unknown}; the graph has {self.output_names}")
        values = self.session.run(list(tasks), self._feed(input_ids, attention_mask, token_type_ids))
        return {t: torch.from_numpy(v) for t, v in zip(tasks, values)}

    def __call__(self, task: str, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 token_type_ids: torch.Tensor | None = None, labels: Any = None) -> dict[str, torch.Tensor]:
        """One task's ``{"logits"}`` (no loss: an export cannot train)."""
        return {"logits": self.forward_heads([task], input_ids, attention_mask, token_type_ids)[task]}

    forward = __call__


def is_export_dir(path: Path | str) -> bool:
    return (Path(path) / MODEL_FILE).is_file() and (Path(path) / EXPORT_FILE).is_file()


def read_export_info(export_dir: Path | str) -> dict[str, Any]:
    return json.loads((Path(export_dir) / EXPORT_FILE).read_text())


def load_export(export_dir: Path | str, threads: int = 0):
    """``(OnnxModel, tokenizer, meta)`` from an export directory (``mtclin export --format onnx``)."""
    from transformers import AutoTokenizer

    from mtclin.export.onnx import EXPORT_FORMAT
    from mtclin.model.io import ModelMeta

    export_dir = Path(export_dir)
    if not is_export_dir(export_dir):
        hint = (" (it is a torch model directory: export it with `mtclin export --model "
                f"{export_dir} --format onnx --out DIR`)") if (export_dir / "heads.safetensors").is_file() else ""
        raise FileNotFoundError(f"{export_dir}: not an ONNX export ({MODEL_FILE} or {EXPORT_FILE} missing){hint}")
    info = read_export_info(export_dir)
    if info.get("export_format") != EXPORT_FORMAT:
        raise ValueError(f"{export_dir / EXPORT_FILE}: export_format {info.get('export_format')!r}; expected "
                         f"{EXPORT_FORMAT} (re-export with this version of mtclin)")
    meta = ModelMeta.from_json(json.loads((export_dir / "tasks.json").read_text()))
    tokenizer = AutoTokenizer.from_pretrained(export_dir / "tokenizer")
    return OnnxModel(export_dir / MODEL_FILE, threads), tokenizer, meta
