"""Checkpoints resume to the same result as an uninterrupted run; DDP matches single-process training."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtclin.train.checkpoint import latest_checkpoint
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from tests.toy_tasks import TOY_CORPORA, write_toy_processed


@pytest.fixture(scope="module")
def toy_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_processed(tmp_path_factory.mktemp("processed"))


def base_config(toy_processed: Path, model_dir: Path, out: Path, **changes) -> TrainConfig:
    return replace(TrainConfig(corpora=TOY_CORPORA, processed_dir=str(toy_processed), output_dir=str(out),
                               encoder=str(model_dir), epochs=3, learning_rate=1e-3, ner_batch_size=2,
                               pair_batch_size=2, dropout=0.1, seed=7, progress=False), **changes)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    found = latest_checkpoint(run_dir / "checkpoints")
    assert found is not None
    return load_file(found / "model.safetensors")


def test_k_steps_then_resume_k_equals_2k_uninterrupted(toy_processed: Path, tiny, tmp_path: Path):
    _, model_dir = tiny
    # round robin over 3 tasks with 3, 2, 3 batches: 9 steps an epoch; 12 steps cross an epoch end (evaluation)
    straight = train(base_config(toy_processed, model_dir, tmp_path / "a", max_steps=12))
    assert straight.steps == 12 and not straight.finished
    first = train(base_config(toy_processed, model_dir, tmp_path / "b", max_steps=6))
    assert first.steps == 6
    resumed = train(base_config(toy_processed, model_dir, tmp_path / "b", max_steps=12))
    assert resumed.steps == 12
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # and training actually moved the weights away from the start
    fresh = train(base_config(toy_processed, model_dir, tmp_path / "c", max_steps=1))
    assert any(not torch.equal(a[k], weights(tmp_path / "c")[k]) for k in a)
    assert fresh.history == [] and resumed.history == straight.history


def test_a_half_written_checkpoint_is_never_picked(toy_processed: Path, tiny, tmp_path: Path):
    _, model_dir = tiny
    run = tmp_path / "run"
    train(base_config(toy_processed, model_dir, run, max_steps=3))
    good = latest_checkpoint(run / "checkpoints")
    # a crash while writing step 4 leaves only its temporary directory behind
    broken = run / "checkpoints" / ".tmp-step-000000004-999"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"\0" * 10)
    assert latest_checkpoint(run / "checkpoints") == good
    result = train(base_config(toy_processed, model_dir, run, max_steps=4))
    assert result.steps == 4


@pytest.mark.slow
def test_ddp_two_cpu_processes_match_single_process(toy_processed: Path, tiny, tmp_path: Path):
    _, model_dir = tiny
    pairs = ("medrqe", "n2c2-2019")
    common = ["--corpora", ",".join(pairs), "--processed-dir", str(toy_processed), "--encoder", str(model_dir),
              "--epochs", "2", "--learning-rate", "1e-3", "--pair-batch-size", "4", "--dropout", "0",
              "--seed", "3", "--no-progress"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "mtclin.cli", "train", "--output", str(tmp_path / "one"),
                             *common], capture_output=True, text=True, env=env)
    assert single.returncode == 0, single.stderr[-3000:]
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    ddp = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "mtclin.cli", "train",
                          "--output", str(tmp_path / "two"), *common], capture_output=True, text=True, env=env)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    for key in one:
        assert torch.allclose(one[key], two[key], atol=2e-4, rtol=1e-3), key
    # the logged losses are global means, so they agree too; and training did move the weights
    import json

    history = [json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("one", "two")]
    for a, b in zip(*history):
        for task in pairs:
            assert a["train_loss"][task] == pytest.approx(b["train_loss"][task], rel=1e-3)
    initial = load_file(model_dir / "model.safetensors")
    moved = [k for k in initial if not torch.equal(initial[k], one[f"encoder.{k}"])]
    assert moved, "training did not change the encoder"
