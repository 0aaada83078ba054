"""Checkpoints resume to the same result as an uninterrupted run; DDP matches single-process training."""

from __future__ import annotations

import json
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
from tests.link_toys import write_linked_processed
from tests.span_toys import write_nested_processed
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
    # the loop's wall time is summed over the two invocations and saved with the state (its clock is not)
    saved = json.loads((latest_checkpoint(tmp_path / "b" / "checkpoints") / "state.json").read_text())
    assert "_clock" not in saved and saved["train_seconds"] == pytest.approx(resumed.train_seconds, abs=0.1)
    assert 0 < first.train_seconds < resumed.train_seconds


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


def single_and_ddp(options: list[str], tmp_path: Path) -> tuple[Path, Path]:
    """``mtclin train`` with ``options`` in one process (into tmp_path/one) and under ``torchrun`` in two CPU
    processes (tmp_path/two)."""
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "mtclin.cli", "train", "--output", str(tmp_path / "one"),
                             *options], capture_output=True, text=True, env=env)
    assert single.returncode == 0, single.stderr[-3000:]
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    ddp = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "mtclin.cli", "train",
                          "--output", str(tmp_path / "two"), *options], capture_output=True, text=True, env=env)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    return tmp_path / "one", tmp_path / "two"


def assert_same_training(one: Path, two: Path, tasks: tuple[str, ...], initial: dict[str, torch.Tensor]) -> None:
    """Same final weights and per-epoch training losses (the logged losses are global means); and training did
    move the encoder."""
    a, b = weights(one), weights(two)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=2e-4, rtol=1e-3), key
    history = [json.loads((run / "metrics.json").read_text()) for run in (one, two)]
    assert len(history[0]) == len(history[1]) > 0
    for x, y in zip(*history):
        assert set(x["train_loss"]) == set(y["train_loss"]) == set(tasks)
        for task in tasks:
            assert x["train_loss"][task] == pytest.approx(y["train_loss"][task], rel=1e-3), task
    moved = [k for k in initial if not torch.equal(initial[k], a[f"encoder.{k}"])]
    assert moved, "training did not change the encoder"


@pytest.mark.slow
def test_ddp_two_cpu_processes_match_single_process(toy_processed: Path, tiny, tmp_path: Path):
    _, model_dir = tiny
    pairs = ("medrqe", "n2c2-2019")
    common = ["--corpora", ",".join(pairs), "--processed-dir", str(toy_processed), "--encoder", str(model_dir),
              "--epochs", "2", "--learning-rate", "1e-3", "--pair-batch-size", "4", "--dropout", "0",
              "--seed", "3", "--no-progress"]
    one, two = single_and_ddp(common, tmp_path)
    assert_same_training(one, two, pairs, load_file(model_dir / "model.safetensors"))


@pytest.mark.slow
@pytest.mark.parametrize("schedule", ["round_robin", "loss_sum"])  # one task's batch a step; every task's
def test_ddp_with_ner_assertion_and_relation_tasks_matches_single_process(schedule: str, tiny, tmp_path: Path):
    """Link tasks under DDP: every rank's share of a batch holds another number of labelled tokens, entities
    and candidate pairs (notes without any relation, a rank may get none), and under loss_sum one step forwards
    every task's batch; the step still equals one process's step over the whole batch."""
    _, model_dir = tiny
    tasks = ("i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018-relations")
    processed = write_linked_processed(tmp_path / "processed")
    common = ["--corpora", ",".join(tasks), "--processed-dir", str(processed), "--encoder", str(model_dir),
              "--epochs", "2", "--learning-rate", "3e-3", "--ner-batch-size", "3", "--dropout", "0",
              "--seed", "5", "--schedule", schedule, "--no-progress"]
    one, two = single_and_ddp(common, tmp_path)
    assert_same_training(one, two, tasks, load_file(model_dir / "model.safetensors"))
    # the link heads were trained too, not only carried along: they moved from their (seeded) start
    start = train(TrainConfig(corpora=tasks, processed_dir=str(processed), output_dir=str(tmp_path / "zero"),
                              encoder=str(model_dir), epochs=1, max_steps=1, learning_rate=0.0, dropout=0.0,
                              seed=5, progress=False, device="cpu"))
    assert start.steps == 1
    before, after = weights(tmp_path / "zero"), weights(one)
    for task in tasks[1:]:
        assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith(f"heads.{task}.")), task


@pytest.mark.slow
def test_ddp_with_a_span_head_matches_single_process(tiny, tmp_path: Path):
    """The span head under DDP: each rank's share of a batch holds another number of candidate spans (its loss is
    a mean over them), and the step still equals one process's step over the whole batch."""
    _, model_dir = tiny
    processed = write_nested_processed(tmp_path / "processed")
    common = ["--corpora", "quaero-2014", "--processed-dir", str(processed), "--encoder", str(model_dir),
              "--epochs", "2", "--learning-rate", "3e-3", "--ner-batch-size", "3", "--dropout", "0", "--seed", "5",
              "--ner-head-for", "quaero-2014=span", "--max-span-width-for", "quaero-2014=4", "--no-progress"]
    one, two = single_and_ddp(common, tmp_path)
    assert json.loads((one / "model" / "tasks.json").read_text())["tasks"][0]["head"] == "span"
    assert_same_training(one, two, ("quaero-2014",), load_file(model_dir / "model.safetensors"))
