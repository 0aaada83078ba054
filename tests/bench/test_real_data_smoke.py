"""`bench.real_data` end to end on the real releases, as small as it gets (the tiny BERT, a few rows per task, one
epoch): each cell is a `train-baselines` flow run that leaves its record, the table is built from the records, and
a second invocation trains nothing. Skips where ../shared/corpora is absent (CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_cell_leaves_a_record_and_a_second_invocation_trains_nothing(shared_corpora: Path, tiny,
                                                                           tmp_path: Path):
    _, model_dir = tiny
    args = [sys.executable, "-m", "bench.real_data", "--seeds", "0", "--loss-sum-seeds", "", "--max-epochs", "1",
            "--patience", "1", "--limit-train", "8", "--limit-eval", "8", "--encoder", str(model_dir),
            "--corpora-dir", str(shared_corpora), "--project", str(tmp_path / "project"), "--out", str(tmp_path)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(": training (") == 3  # one line per cell trained
    name = f"real-dev-e1p1-limit8-limiteval8-{model_dir.name}"
    records = sorted(p.stem for p in (tmp_path / f"{name}-runs").glob("*.json"))
    assert records == ["medrqe-seed0", "quaero-2014-seed0", "round_robin-seed0"]
    record = json.loads((tmp_path / f"{name}-runs" / "round_robin-seed0.json").read_text())
    assert record["corpora"] == ["quaero-2014", "medrqe"] and record["settings"]["encoder"] == str(model_dir)
    assert record["metrics"]["train_seconds"] > 0 and "test/quaero-2014/f1" in record["metrics"]
    table = json.loads((tmp_path / f"{name}.json").read_text())
    assert table["missing_cells"] == [] and len(table["runs"]) == 3
    assert [row["corpus"] for row in table["rows"]] == ["medrqe", "quaero-2014"]
    assert "| quaero-2014 | f1 |" in (tmp_path / f"{name}.md").read_text()

    again = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert ": training (" not in again.stdout and json.loads((tmp_path / f"{name}.json").read_text())["rows"] == \
        table["rows"]
