"""bench/gpu.sh cannot be run here (no GPU), but its CPU part must: every argument list parses with its
benchmark's own parser, the training config builds, and the corpus scales for the paper's sizes are derived."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gpu_script_dry_run_parses_everything_and_runs_nothing(tmp_path: Path):
    done = subprocess.run(["bash", str(REPO / "bench" / "gpu.sh"), "--dry-run", "--work", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO,
                          env=os.environ | {"PY": sys.executable}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "arguments parse; training: round_robin, 1 epoch, max length 512/512, batches 25/40" in out
    scales = json.loads(out.split("paper's sizes: ", 1)[1].splitlines()[0])
    assert len(scales) == 8 and all(s > 1 for s in scales.values())
    assert "would run" in out and "bench.serving --device cuda --dtype bf16" in out
    assert not (tmp_path / "paper").exists()  # nothing at the paper's sizes was generated


def test_gpu_script_rejects_unknown_options(tmp_path: Path):
    done = subprocess.run(["bash", str(REPO / "bench" / "gpu.sh"), "--fast"], capture_output=True, text=True,
                          cwd=REPO)
    assert done.returncode == 2 and "usage" in done.stderr
