"""Export -> load -> predict on a tiny model: the ONNX graph gives torch's outputs through the same Predictor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from mtclin.export.onnx import FP32_TOLERANCE, check_batches, export_onnx, export_onnx_all, logit_differences
from mtclin.export.runtime import OnnxModel, load_export
from mtclin.inference import Predictor
from mtclin.model.io import load_model

# a short text, an empty one, and one of many windows (max_length 32): batches of different widths and sizes
TEXTS = ["patient takes aspirin 81 mg daily for chest pain .", "", "fever and cough since two days . " * 40]
PAIRS = [("does aspirin cause bleeding ?", "what are the side effects of aspirin ?"), ("a", "b"),
         ("the patient has a fever and a cough since two days .", "fever .")]


def decisions(entities: list[dict]) -> list[dict]:
    return [{t: [(e["start"], e["end"], e["type"]) for e in v] for t, v in r.items()} for r in entities]


def test_export_directory_holds_graph_tokenizer_and_metadata(tiny_model_dir: Path, exports: dict[str, Path]):
    out = exports["fp32"]
    assert (out / "tasks.json").read_bytes() == (tiny_model_dir / "tasks.json").read_bytes()
    assert (out / "tokenizer" / "tokenizer.json").is_file()
    info = json.loads((out / "export.json").read_text())
    assert info["precision"] == "fp32" and info["format"] == "onnx"
    assert max(info["check"]["max_abs_logit_diff"].values()) <= FP32_TOLERANCE
    graph = onnx.load(str(out / "model.onnx")).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    names = ["n2c2-2018", "quaero-2014", "medrqe", "mednli", "n2c2-2019"]
    assert [o.name for o in graph.output] == names  # one output per head, in tasks.json order
    # dynamic batch and sequence axes on every input, and on the outputs that have them
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        assert all(d.dim_param for d in dims[:2 if value.name in ("input_ids", "attention_mask", "token_type_ids",
                                                                   "n2c2-2018", "quaero-2014") else 1]), value.name


@pytest.mark.parametrize("batch_size", [1, 32])
def test_fp32_onnx_predicts_what_torch_predicts(tiny_model_dir: Path, exports: dict[str, Path], batch_size: int):
    torch_p = Predictor.load(tiny_model_dir, device="cpu", batch_size=batch_size)
    onnx_p = Predictor.load(exports["fp32"], backend="onnx", batch_size=batch_size)
    assert (torch_p.backend, onnx_p.backend) == ("torch", "onnx")
    a, b = torch_p.predict(TEXTS), onnx_p.predict(TEXTS)
    assert decisions(a) == decisions(b)
    scores = [(x["score"], y["score"]) for ra, rb in zip(a, b) for t in ra for x, y in zip(ra[t], rb[t])]
    assert scores and max(abs(x - y) for x, y in scores) <= 1e-4
    pa, pb = torch_p.predict_pairs(PAIRS), onnx_p.predict_pairs(PAIRS)
    for ra, rb in zip(pa, pb):
        assert ra["medrqe"]["label"] == rb["medrqe"]["label"] and ra["mednli"]["label"] == rb["mednli"]["label"]
        assert ra["n2c2-2019"]["score"] == pytest.approx(rb["n2c2-2019"]["score"], abs=1e-4)
        for task in ("medrqe", "mednli"):
            for label, p in ra[task]["probabilities"].items():
                assert p == pytest.approx(rb[task]["probabilities"][label], abs=1e-5)


def test_logits_agree_on_unseen_shapes(tiny_model_dir: Path, exports: dict[str, Path]):
    """Dynamic axes: a batch of another size and width than the traced one, without any padding (the trace was
    made on a padded batch; transformers drops an all-ones mask, which must not have been baked in)."""
    model, tokenizer, meta = load_model(tiny_model_dir)
    names = tuple(t.name for t in meta.tasks)
    ids = torch.randint(5, 300, (5, 23))
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    unpadded = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    diffs = logit_differences(model, OnnxModel(exports["fp32"] / "model.onnx"),
                              [unpadded] + check_batches(tokenizer, meta), names)
    assert max(diffs.values()) <= FP32_TOLERANCE, diffs


def test_int8_quantises_the_encoder_dense_layers_only(exports: dict[str, Path]):
    graph = onnx.load(str(exports["int8"] / "model.onnx")).graph
    quantised = [n.name for n in graph.node if n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul")]
    # per layer: query, key, value, attention output, feed-forward input (2 layers)
    assert len(quantised) == 10 and all(name.startswith("/encoder/") for name in quantised)
    fp32 = sorted(n.name for n in graph.node if n.op_type in ("MatMul", "Gemm"))
    # kept: attention's Q.K and P.V (no weights), the feed-forward output projections, every head
    assert sum("/output/dense/" in n and "/attention/" not in n for n in fp32) == 2
    assert sum(not n.startswith("/encoder/") for n in fp32) == 5
    assert (exports["int8"] / "model.onnx").stat().st_size < (exports["fp32"] / "model.onnx").stat().st_size
    info = json.loads((exports["int8"] / "export.json").read_text())
    assert info["precision"] == "int8" and info["check"]["fp32_max_abs_logit_diff"] <= FP32_TOLERANCE
    predictor = Predictor.load(exports["int8"], backend="onnx")
    assert set(predictor.predict(TEXTS[:1])[0]) == {"n2c2-2018", "quaero-2014"}
    assert set(predictor.predict_pairs(PAIRS[:1])[0]) == {"medrqe", "mednli", "n2c2-2019"}


def test_onnx_model_answers_like_the_torch_model_interface(tiny_model_dir: Path, exports: dict[str, Path]):
    """``model(task, **batch)["logits"]`` (what evaluate_task calls) and ``forward_heads``."""
    model, tokenizer, meta = load_model(tiny_model_dir)
    onnx_model, _, onnx_meta = load_export(exports["fp32"])
    assert onnx_meta == meta and onnx_model.eval() is onnx_model
    batch = check_batches(tokenizer, meta)[1]
    with torch.inference_mode():
        ref = model("mednli", **batch)["logits"]
    np.testing.assert_allclose(onnx_model("mednli", **batch, labels=None)["logits"].numpy(), ref.numpy(), atol=1e-5)
    with pytest.raises(KeyError, match="no output for task"):
        onnx_model.forward_heads(["i2b2-2010"], **batch)


def test_errors_say_what_to_do(tiny_model_dir: Path, exports: dict[str, Path], tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="mtclin export --model"):
        Predictor.load(tiny_model_dir, backend="onnx")
    with pytest.raises(ValueError, match="use one of torch, onnx"):
        Predictor.load(tiny_model_dir, backend="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        Predictor.load(exports["fp32"], device="cuda", backend="onnx")
    with pytest.raises(ValueError, match="quantize='int4'"):
        export_onnx(tiny_model_dir, tmp_path / "x", quantize="int4")
    with pytest.raises(FileNotFoundError, match="tasks.json missing"):
        export_onnx(tmp_path, tmp_path / "x")
    with pytest.raises(ValueError, match="int4"):
        export_onnx_all(tiny_model_dir, {"int4": tmp_path / "x"})
    assert not (tmp_path / "x").exists()


def test_both_precisions_come_from_one_trace(exports: dict[str, Path]):
    """export_onnx_all (what registration runs): the int8 graph is the fp32 graph quantised, checked once."""
    info = {p: json.loads((exports[p] / "export.json").read_text()) for p in ("fp32", "int8")}
    assert info["fp32"]["precision"] == "fp32" and info["int8"]["precision"] == "int8"
    assert info["int8"]["check"]["fp32_max_abs_logit_diff"] == info["fp32"]["check"]["fp32_max_abs_logit_diff"]
    assert info["fp32"]["check"]["max_abs_logit_diff"] != info["int8"]["check"]["max_abs_logit_diff"]
    fp32 = {i.name for i in onnx.load(str(exports["fp32"] / "model.onnx")).graph.initializer}
    int8 = {i.name for i in onnx.load(str(exports["int8"] / "model.onnx")).graph.initializer}
    assert any(name.endswith("_quantized") for name in int8 - fp32)  # int8 weights where fp32 ones were


def test_export_cli_writes_an_export_directory(tiny_model_dir: Path, tmp_path: Path):
    for extra, precision in (([], "fp32"), (["--quantize", "int8"], "int8")):
        out = tmp_path / precision
        done = subprocess.run([sys.executable, "-m", "mtclin.cli", "export", "--model", str(tiny_model_dir),
                               "--format", "onnx", *extra, "--out", str(out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"onnx {precision}" in done.stdout and json.loads((out / "export.json").read_text())["precision"] \
            == precision
    bad = subprocess.run([sys.executable, "-m", "mtclin.cli", "export", "--model", str(tmp_path / "none"),
                          "--out", str(tmp_path / "y")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no tasks.json" in bad.stderr
