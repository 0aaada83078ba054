"""The real-data grid in cells with committed records: which cells are left, what a record keeps, the table built
from records, a record that is not one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from bench import real_data
from bench.real_grid import GridCell, as_runs, grid_cells, grid_name, paper_comparison, read_records, record_of
from mtclin.tracking.compare import markdown, table2_rows

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
PASS_1 = ["--selection", "dev", "--seeds", "0", "--loss-sum-seeds", "", "--max-epochs", "3", "--patience", "1"]
DEFAULTS = {"selection": "dev", "max_epochs": 8, "patience": 2, "ner_head": "bio", "max_span_width": 0,
            "head_learning_rate": 0.0, "limit_train": 0, "encoder": "minilm", "limit_eval": 0,
            "device": "cpu"}


def test_cells_single_task_first_then_each_schedule_with_its_seeds():
    cells = grid_cells(["quaero-2014", "medrqe"], [0, 1], {"round_robin": [0, 1], "loss_sum": [0]})
    assert [c.label for c in cells] == ["quaero-2014-seed0", "quaero-2014-seed1", "medrqe-seed0", "medrqe-seed1",
                                        "round_robin-seed0", "round_robin-seed1", "loss_sum-seed0"]
    assert cells[-1].corpora == ("quaero-2014", "medrqe") and cells[0].corpora == ("quaero-2014",)
    assert [c.label for c in grid_cells(["medrqe"], [], {"round_robin": [2]})] == ["round_robin-seed2"]


def test_grid_names_say_what_differs_from_the_default_grid():
    assert grid_name(DEFAULTS) == "real-dev"
    assert grid_name(DEFAULTS | {"selection": "paper"}) == "real-paper"
    assert grid_name(DEFAULTS | {"max_epochs": 3, "patience": 1}) == "real-dev-e3p1"
    assert grid_name(DEFAULTS | {"ner_head": "span", "head_learning_rate": 1e-3, "limit_train": 20}) == \
        "real-dev-span-hlr0.001-limit20"
    assert grid_name(DEFAULTS | {"encoder": "/models/Bio_ClinicalBERT", "limit_eval": 8}) == \
        "real-dev-limiteval8-Bio_ClinicalBERT"
    assert grid_name(DEFAULTS | {"selection": "paper", "device": "cuda"}) == "real-paper-cuda"


def fake_run(test_f1: float, seed: int) -> SimpleNamespace:
    tags = {"mtclin.schedule": "single_task", "mtclin.corpora": "quaero-2014", "mtclin.selection": "dev",
            "mtclin.seed": str(seed), "mtclin.stopped_early": "true", "mlflow.user": "someone"}
    metrics = {"test/quaero-2014/f1": test_f1, "test/quaero-2014/per_type/ANAT/f1": 0.1, "steps": 100.0 + seed,
               "best/epoch": 1.0, "train_seconds": 12.5}
    return SimpleNamespace(data=SimpleNamespace(tags=tags, metrics=metrics), info=SimpleNamespace(run_id=f"r{seed}"))


def test_a_record_keeps_the_table_tags_and_metrics_without_per_type_and_the_table_reads_it(tmp_path: Path):
    records = [record_of(GridCell("single_task", ("quaero-2014",), s), fake_run(f1, s), DEFAULTS, {"code": "abc"})
               for s, f1 in ((0, 0.40), (1, 0.50))]
    assert records[0]["label"] == "quaero-2014-seed0" and records[0]["run_id"] == "r0"
    assert "mlflow.user" not in records[0]["tags"] and records[0]["code"] == "abc"
    assert not any("per_type" in k for k in records[0]["metrics"])
    for record in records:
        (tmp_path / f"{record['label']}.json").write_text(json.dumps(record))
    (tmp_path / "other.json").write_text(json.dumps(records[0] | {"settings": DEFAULTS | {"patience": 1}}))
    (tmp_path / "bert.json").write_text(json.dumps(records[0] | {"settings": DEFAULTS | {"encoder": "bert-base"}}))
    # a record from before the encoder, limit_eval and device settings was made at their defaults
    older = {k: v for k, v in DEFAULTS.items() if k not in ("encoder", "limit_eval", "device")}
    (tmp_path / "quaero-2014-seed1.json").write_text(json.dumps(records[1] | {"settings": older}))
    kept = read_records(tmp_path, DEFAULTS)
    assert [r["label"] for r in kept] == ["quaero-2014-seed0", "quaero-2014-seed1"]  # not the other settings'
    (row,) = table2_rows(as_runs(kept))
    assert row.cells["single_task"].values == [0.40, 0.50] and row.cells["single_task"].mean_steps == 100.5
    assert "45.0 ± 7.1" in markdown([row], selection="dev")
    # beside the paper: ours / theirs (ours - theirs), and the mean training minutes of the column's runs
    assert "| quaero-2014 | – / 49.1 | – / 52.2 | 45.0 / 55.5 (-10.5) | – / – / 0.2 |" in paper_comparison([row], kept)


def test_a_file_that_is_not_a_record_is_named(tmp_path: Path):
    (tmp_path / "broken.json").write_text('{"label": "x"')
    with pytest.raises(ValueError, match="broken.json"):
        read_records(tmp_path, DEFAULTS)
    (tmp_path / "broken.json").write_text('{"label": "x"}')
    with pytest.raises(ValueError, match="broken.json: not a grid record"):
        read_records(tmp_path, DEFAULTS)


def test_recorded_cells_are_not_trained_again_and_the_table_is_the_committed_one(tmp_path: Path,
                                                                               capsys: pytest.CaptureFixture):
    """Pass 1's committed records: with every cell recorded, nothing is trained (no release, no project needed)
    and the table rebuilt from them is the committed table."""
    shutil.copytree(RESULTS / "real-dev-e3p1-runs", tmp_path / "real-dev-e3p1-runs")
    args = PASS_1 + ["--corpora-dir", str(tmp_path / "absent"), "--project", str(tmp_path / "absent-project"),
                     "--out", str(tmp_path)]
    assert real_data.main(args) == 0
    assert not (tmp_path / "absent-project").exists()
    assert (tmp_path / "real-dev-e3p1.md").read_text() == (RESULTS / "real-dev-e3p1.md").read_text()
    table = json.loads((tmp_path / "real-dev-e3p1.json").read_text())
    assert table["missing_cells"] == [] and len(table["runs"]) == 3

    # one more seed asked for: its cells are missing, so the releases are needed, and their absence is said
    more = PASS_1[:2] + ["--seeds", "0,1"] + PASS_1[4:] + args[len(PASS_1):]
    assert real_data.main(more) == 2
    assert not (tmp_path / "absent-project").exists()
    if not torch.cuda.is_available():  # and a GPU that is not there is said before anything starts
        assert real_data.main(more + ["--device", "cuda"]) == 2
        assert "torch sees no CUDA device" in capsys.readouterr().err
