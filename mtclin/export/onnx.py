"""Export a saved multitask model to ONNX: one graph, the shared encoder and every task head as its outputs.

Export directory layout (what ``runtime.load_export`` reads; no pickle, no training code needed):
    model.onnx    inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64, (batch, sequence), both axes
                  dynamic); one output per task, named after it, in tasks.json order: NER (batch, sequence, tags),
                  entailment (batch, classes), similarity (batch,) — the heads' raw logits
    tokenizer/    the model's tokenizer files
    tasks.json    the model directory's metadata, copied unchanged (tasks, label lists, encoding settings)
    export.json   precision (fp32 | int8), opset, library versions, the source, and the export check: the largest
                  |logit| difference from the eager torch model on a fixed batch

The graph is traced with the TorchScript exporter (``dynamo=False``; it handles transformers 5's BERT without
onnxscript) using eager attention, whose MatMul-Softmax-MatMul pattern ONNX Runtime fuses into its Attention kernel.
int8: ``onnxruntime.quantization.quantize_dynamic`` (int8 weights per output channel, activations quantised per
batch at run time) of the encoder's dense layers except each feed-forward block's output projection, whose input
(GELU outputs with a long tail of outliers) loses too much at 8 bits: quantising it too cost up to 2.2 F1 points
on the sample test sets, leaving it fp32 keeps every task within 0.5 (docs/benchmarks.md). The heads stay fp32
(a sliver of the compute, and their logits are what the decisions are read from). Dynamic quantisation computes
activation ranges over the whole batch tensor, so int8 answers depend slightly on what else is in the batch.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from mtclin.atomic_dir import replaced_atomically
from mtclin.data.collate import collate_ner, collate_pairs
from mtclin.data.encode_ner import encode_texts
from mtclin.data.encode_pairs import encode_pairs

EXPORT_FORMAT = 1
OPSET = 17  # LayerNormalization is a native op from 17 on (one node instead of a dozen)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FP32_TOLERANCE = 1e-4  # max |logit| difference from eager torch an fp32 export may have; more means a broken trace
Precision = Literal["fp32", "int8"]
# Synthetic inputs for tracing and for the export check (no corpus text goes into an artifact). Tracing needs a
# padded batch: transformers drops the attention mask when every token is real, and a trace would bake that in.
CHECK_TEXTS = ("patient takes aspirin 81 mg daily for chest pain .",
               "fever , cough and shortness of breath since two days ; chest x ray showed bilateral infiltrates .")
CHECK_PAIRS = (("does aspirin cause bleeding ?", "what are the side effects of aspirin ?"),
               ("the patient has a fever .", "the patient is afebrile ."))


class ExportError(RuntimeError):
    pass


class _Graph(torch.nn.Module):
    """The exported function: token ids -> every head's logits from one encoder pass, in ``task_names`` order."""

    def __init__(self, model: torch.nn.Module, task_names: tuple[str, ...]):
        super().__init__()
        self.model, self.task_names = model, task_names

    def forward(self, input_ids, attention_mask, token_type_ids):
        logits = self.model.forward_heads(self.task_names, input_ids, attention_mask, token_type_ids)
        return tuple(logits[name] for name in self.task_names)


def check_batches(tokenizer: Any, meta: Any) -> list[dict[str, torch.Tensor]]:
    """Two padded batches (NER windows of the check texts; the check pairs) as the Predictor collates them."""
    windows, _ = encode_texts(list(CHECK_TEXTS), tokenizer, meta.max_length, meta.stride)
    pairs = encode_pairs([{"a": a, "b": b} for a, b in CHECK_PAIRS], tokenizer, "sts", (), meta.pair_max_length)
    return [{k: v for k, v in batch.items() if k in INPUTS}
            for batch in (collate_ner(windows, tokenizer.pad_token_id), collate_pairs(pairs, tokenizer.pad_token_id))]


def _trace(model: torch.nn.Module, task_names: tuple[str, ...], kinds: dict[str, str], example: dict, path: Path
           ) -> None:
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    for name in task_names:
        dynamic[name] = {0: "batch", 1: "sequence"} if kinds[name] == "ner" else {0: "batch"}
    with warnings.catch_warnings():
        # TracerWarnings: transformers' shape checks (mask padding, is_causal) are constant for an encoder
        warnings.simplefilter("ignore")
        # eval(): the exporter restores the wrapper's mode on every submodule afterwards (train would mean dropout)
        torch.onnx.export(_Graph(model, task_names).eval(), tuple(example[k] for k in INPUTS), str(path),
                          input_names=list(INPUTS), output_names=list(task_names), dynamic_axes=dynamic,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)


def quantized_nodes(graph: Any) -> list[str]:
    """The MatMuls to quantise: the encoder's dense layers but the feed-forward output projections. The tracer
    names nodes by module scope: "/encoder/..." for the encoder, "/<task>/..." for the heads."""
    return [n.name for n in graph.node if n.op_type == "MatMul" and n.name.startswith("/encoder/")
            and ("/attention/" in n.name or "/output/dense/" not in n.name)]


def quantize_int8(fp32_path: Path, out_path: Path) -> None:
    """Dynamic int8 quantisation of ``quantized_nodes`` (weights int8 per output channel, activations at run
    time); everything else, the task heads included, stays fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="mtclin-quant-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        # ONNX's shape inference covers the graph; ORT's symbolic one stops at the mask ops, and isn't needed
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        # a list of nodes to quantise, not of nodes to skip: the quantiser renames the heads' Gemms as it rewrites
        nodes = quantized_nodes(onnx.load(str(pre), load_external_data=False).graph)
        quantize_dynamic(str(pre), str(out_path), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def logit_differences(model: torch.nn.Module, onnx_model: Any, batches: list[dict[str, torch.Tensor]],
                      task_names: tuple[str, ...]) -> dict[str, float]:
    """Per task: the largest |torch logit - ONNX logit| over real (unpadded) positions of ``batches``."""
    out = {name: 0.0 for name in task_names}
    with torch.inference_mode():
        for batch in batches:
            ref = model.forward_heads(task_names, **batch)
            got = onnx_model.forward_heads(task_names, **batch)
            real = batch["attention_mask"].bool()  # (B, T)
            for name in task_names:
                a, b = ref[name].float(), got[name].float()
                diff = (a - b).abs()
                if diff.dim() == 3:  # NER (B, T, C): padded positions are never read
                    diff = diff[real]
                out[name] = max(out[name], float(diff.max()) if diff.numel() else 0.0)
    return out


def refused_tasks(model_dir: Path | str) -> list[str]:
    """The saved model's tasks an export cannot hold: span NER, assertion and relation heads read candidate
    inputs (spans, entities, pairs) that the exported graph has no input for."""
    from mtclin.model.io import load_meta

    return [t.name for t in load_meta(Path(model_dir)).tasks if t.is_span or t.is_link]


def export_onnx(model_dir: Path | str, out_dir: Path | str, quantize: Precision | None = None,
                threads: int = 0) -> dict[str, Any]:
    """Write the export directory of the saved model in ``model_dir`` to ``out_dir`` (atomically: a temp sibling
    renamed into place) and return its export.json. ``quantize="int8"``: the int8 graph (the fp32 one is traced
    first and checked against torch either way). Raises ExportError when the fp32 graph's logits differ from eager
    torch by more than ``FP32_TOLERANCE``."""
    if quantize not in (None, "fp32", "int8"):
        raise ValueError(f"quantize={quantize!r}: use None (fp32) or 'int8'")
    precision = quantize or "fp32"
    return export_onnx_all(model_dir, {precision: out_dir}, threads)[precision]


def export_onnx_all(model_dir: Path | str, out_dirs: dict[Precision, Path | str],
                    threads: int = 0) -> dict[Precision, dict[str, Any]]:
    """One export directory per precision in ``out_dirs`` (``{"fp32": dir, "int8": dir}``, either or both) from one
    load, trace and fp32 check of the model; each directory written atomically. Returns each one's export.json."""
    from mtclin.export.runtime import OnnxModel
    from mtclin.model.io import load_model

    model_dir = Path(model_dir)
    unknown = set(out_dirs) - {"fp32", "int8"}
    if unknown or not out_dirs:
        raise ValueError(f"precisions {sorted(unknown) or 'none'}: use fp32 and / or int8")
    refused = refused_tasks(model_dir)
    if refused:
        raise ExportError(f"{model_dir}: tasks {', '.join(refused)} (span NER, assertion or relation heads) take "
                          "candidate inputs an export does not hold; export a model without them, or serve this one "
                          "with the torch backend (mtclin predict / the pyfunc's default)")
    model, tokenizer, meta = load_model(model_dir, "cpu")
    model.encoder.set_attn_implementation("eager")
    task_names = tuple(t.name for t in meta.tasks)
    kinds = {t.name: t.kind for t in meta.tasks}
    batches = check_batches(tokenizer, meta)
    infos: dict[Precision, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="mtclin-export-") as work:
        fp32 = Path(work) / "model.onnx"
        _trace(model, task_names, kinds, batches[0], fp32)
        fp32_diffs = logit_differences(model, OnnxModel(fp32, threads), batches, task_names)
        worst = max(fp32_diffs.values())
        if worst > FP32_TOLERANCE:
            raise ExportError(f"{model_dir}: the ONNX graph's logits differ from torch by {worst:.2e} "
                              f"(> {FP32_TOLERANCE:g}; per task {fp32_diffs}): the trace is wrong for this model "
                              f"(torch {torch.__version__}); report it with this message")
        for precision, out_dir in out_dirs.items():
            with replaced_atomically(Path(out_dir)) as tmp:
                graph = tmp / "model.onnx"
                if precision == "int8":
                    quantize_int8(fp32, graph)
                    diffs = logit_differences(model, OnnxModel(graph, threads), batches, task_names)
                else:
                    shutil.copyfile(fp32, graph)
                    diffs = fp32_diffs
                tokenizer.save_pretrained(tmp / "tokenizer")
                shutil.copyfile(model_dir / "tasks.json", tmp / "tasks.json")
                infos[precision] = {
                    "export_format": EXPORT_FORMAT,
                    "format": "onnx",
                    "precision": precision,
                    "opset": OPSET,
                    "inputs": list(INPUTS),
                    "outputs": {t.name: t.kind for t in meta.tasks},
                    "source": str(model_dir),
                    "check": {"max_abs_logit_diff": diffs, "fp32_max_abs_logit_diff": worst,
                              "texts": len(CHECK_TEXTS), "pairs": len(CHECK_PAIRS)},
                    "versions": {name: package_version(name) for name in ("torch", "transformers", "onnx",
                                                                          "onnxruntime")},
                }
                (tmp / "export.json").write_text(json.dumps(infos[precision], indent=2) + "\n")
    return infos


def max_abs_logit_diff(info: dict[str, Any]) -> float:
    """The export check's largest |logit| difference over every task (export.json)."""
    return float(np.max(list(info["check"]["max_abs_logit_diff"].values())))
