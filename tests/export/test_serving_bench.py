"""bench.serving runs end to end on a small model (every backend, the pipeline peer, the served load test): the
benchmark the docs' serving figures come from keeps working, on any machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_serving_benchmark_quick_run_writes_every_figure(tiny_model_dir: Path, tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "bench.serving", "--quick", "--model", str(tiny_model_dir),
                           "--work", str(tmp_path / "work"), "--load-requests", "8", "--probes", "8", "--load-backends", "onnx-fp32",
                           "--pipeline-batch-sizes", "32",
                           "--out", str(tmp_path / "serving.json")], capture_output=True, text=True, cwd=REPO, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "serving.json").read_text())
    figures = {f["name"]: f["value"] for f in result["figures"]}
    for setup in ("torch", "onnx-fp32", "onnx-int8"):
        assert figures[f"{setup}.notes_per_s"] > 0 and figures[f"{setup}.pairs_per_s"] > 0
    assert figures["onnx-fp32.outputs_identical"] == 1 and figures["onnx-fp32.max_abs_logit_diff"] <= 1e-4
    assert figures["pipelines.b32.notes_per_s"] > 0 and figures["peer.compared"] > 0
    assert figures["serve.onnx-fp32.load.requests"] == 8
    assert figures["serve.onnx-fp32.load.answers_equal_offline"] == 1.0
