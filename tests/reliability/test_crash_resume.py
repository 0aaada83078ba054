"""Nothing lost: a training run killed at any moment resumes to exactly the result of an uninterrupted run.

A SIGKILLed `mtclin train` re-run with the same command; a crash inside ``save_checkpoint`` at each point of the
write; and a damaged ``latest`` pointer. Tiny BERT and toy tasks, CPU, so every comparison is ``torch.equal``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import mtclin.train.checkpoint as checkpoint_module
from mtclin.train.checkpoint import latest_checkpoint
from mtclin.train.config import TrainConfig
from mtclin.train.loop import train
from tests.toy_tasks import TOY_CORPORA, write_toy_processed

# round robin over the toy tasks' 3, 2 and 3 batches of 2: 9 steps an epoch
STEPS_PER_EPOCH = 9
ENV = os.environ | {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}  # one thread: same sums in every run
DEADLINE_S = 300  # per run; a loaded 2-core machine is slow, a hung one must still fail


@pytest.fixture(scope="module")
def toy_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_processed(tmp_path_factory.mktemp("processed"))


def assert_same_files(a: Path, b: Path) -> None:
    """Every safetensors file under ``a`` has its twin under ``b`` with equal tensors (CPU, bit for bit)."""
    files = sorted(p.relative_to(a) for p in a.rglob("*.safetensors"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.safetensors"))
    assert files, f"no weights under {a}"
    for rel in files:
        x, y = load_file(a / rel), load_file(b / rel)
        assert x.keys() == y.keys(), rel
        for key in x:
            assert torch.equal(x[key], y[key]), f"{rel}: {key}"


# --- SIGKILL the CLI mid-run, run the same command again -----------------------------------------------------


def train_command(processed: Path, encoder: Path, out: Path, epochs: int) -> list[str]:
    # dropout on, so the resumed run must also restore the RNG to match; progress on: tqdm shows where it starts
    return [sys.executable, "-m", "mtclin.cli", "train", "--corpora", ",".join(TOY_CORPORA),
            "--processed-dir", str(processed), "--encoder", str(encoder), "--output", str(out),
            "--epochs", str(epochs), "--learning-rate", "1e-3", "--ner-batch-size", "2", "--pair-batch-size", "2",
            "--dropout", "0.1", "--seed", "7", "--checkpoint-every", "2", "--device", "cpu"]


def committed_state(ckpt_dir: Path) -> dict | None:
    """state.json of the checkpoint ``latest`` names, read without the loop; None while there is none."""
    try:
        name = (ckpt_dir / "latest").read_text().strip()
        return json.loads((ckpt_dir / name / "state.json").read_text())
    except (OSError, ValueError):  # not yet written, or rotated away between the two reads
        return None


def run_together(*runs: tuple[list[str], Path]) -> None:
    """Run the commands side by side (one thread each), every one to a successful end."""
    procs = []
    try:
        for command, log in runs:
            with open(log, "w") as err:
                procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=ENV))
        for proc, (_, log) in zip(procs, runs):
            assert proc.wait(timeout=DEADLINE_S) == 0, log.read_text()[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def kill_mid_epoch(command: list[str], ckpt_dir: Path, log: Path) -> int | None:
    """Start ``command``, SIGKILL it once a checkpoint at step >= 5 of some epoch is committed; the step resume
    will start from, or None when the run finished before the kill could land."""
    with open(log, "w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=ENV)
    try:
        start = time.monotonic()
        while proc.poll() is None:
            state = committed_state(ckpt_dir)
            if state is not None and state["step_in_epoch"] >= 5:
                proc.send_signal(signal.SIGKILL)  # a no-op when it has exited meanwhile
                break
            assert time.monotonic() - start < DEADLINE_S, f"no mid-epoch checkpoint in {DEADLINE_S} s: {log}"
            time.sleep(0.002)
        code = proc.wait(timeout=DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != -signal.SIGKILL:
        assert code == 0, log.read_text()[-3000:]
        return None
    state = committed_state(ckpt_dir)
    assert state is not None
    return state["step"]


def test_sigkill_mid_run_then_same_command_equals_uninterrupted_run(toy_processed: Path, tiny, tmp_path: Path):
    _, encoder = tiny
    epochs, resume_step = 4, None
    for attempt in range(3):  # a run that outpaced the poller is retried longer, never counted as a pass
        out = tmp_path / f"killed-{attempt}"
        command = train_command(toy_processed, encoder, out, epochs)
        resume_step = kill_mid_epoch(command, out / "checkpoints", tmp_path / f"killed-{attempt}.log")
        total = epochs * STEPS_PER_EPOCH
        if resume_step is not None and resume_step < total:
            break
        epochs *= 2
    else:
        pytest.fail("the training run finished before it could be killed, three times over")
    assert 5 <= resume_step < total

    straight = tmp_path / "straight"
    run_together((command, tmp_path / "resumed.log"),
                 (train_command(toy_processed, encoder, straight, epochs), tmp_path / "straight.log"))
    # the second run started where the kill left it (tqdm's first frame shows the step it resumed at)
    first_frame = re.search(r"train: (\d+)it", (tmp_path / "resumed.log").read_text())
    assert first_frame is not None and int(first_frame.group(1)) == resume_step

    for run_dir in (out, straight):
        assert committed_state(run_dir / "checkpoints")["step"] == total
    assert_same_files(out / "checkpoints" / (out / "checkpoints" / "latest").read_text().strip(),
                      straight / "checkpoints" / (straight / "checkpoints" / "latest").read_text().strip())
    assert_same_files(out / "model", straight / "model")  # the best epoch's model, saved by either run
    history = [json.loads((d / "metrics.json").read_text()) for d in (out, straight)]
    assert len(history[0]) == epochs and history[0] == history[1]


# --- a crash inside save_checkpoint ---------------------------------------------------------------------------


class Crash(BaseException):
    """Stands in for SIGKILL: nothing in the loop or in save_checkpoint catches it, no cleanup runs."""


def base_config(toy_processed: Path, encoder: Path, out: Path, **changes) -> TrainConfig:
    return replace(TrainConfig(corpora=TOY_CORPORA, processed_dir=str(toy_processed), output_dir=str(out),
                               encoder=str(encoder), epochs=3, learning_rate=1e-3, ner_batch_size=2,
                               pair_batch_size=2, dropout=0.1, seed=7, checkpoint_every=2, max_steps=12,
                               device="cpu", progress=False), **changes)


@pytest.fixture(scope="module")
def reference(toy_processed: Path, tiny, tmp_path_factory: pytest.TempPathFactory):
    """An uninterrupted 12-step run (crosses the end of epoch 0, so it includes an evaluation)."""
    _, encoder = tiny
    return train(base_config(toy_processed, encoder, tmp_path_factory.mktemp("reference")))


@pytest.fixture(scope="module")
def four_steps(toy_processed: Path, tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run's directory after 4 steps: checkpoints step-2 and step-4, ``latest`` -> step-4."""
    _, encoder = tiny
    out = tmp_path_factory.mktemp("four")
    train(base_config(toy_processed, encoder, out, max_steps=4))
    return out


def resume_and_compare(config: TrainConfig, reference, first_step: int) -> None:
    steps: list[int] = []
    result = train(config, on_step=lambda step, _: steps.append(step))
    assert steps[0] == first_step and result.steps == 12
    assert result.history == reference.history
    assert_same_files(latest_checkpoint(Path(config.output_dir) / "checkpoints"),
                      latest_checkpoint(reference.output_dir / "checkpoints"))


def crash_while_writing_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """trainer.pt of step 6 is half on disk when the process dies."""
    real_save = torch.save

    def save(obj, f, *args, **kwargs):
        if "step-000000006" in str(f):
            real_save(obj, f, *args, **kwargs)
            data = Path(f).read_bytes()
            Path(f).write_bytes(data[:len(data) // 2])
            raise Crash
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)


def crash_before_pointer(monkeypatch: pytest.MonkeyPatch) -> None:
    """step-6 is renamed into place, complete, but the process dies before ``latest`` names it."""
    real_replace = os.replace

    def replace_(src, dst):
        if Path(dst).name == checkpoint_module.LATEST and "step-000000006" in Path(src).read_text():
            raise Crash
        return real_replace(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", replace_)


@pytest.mark.parametrize("crash", [crash_while_writing_files, crash_before_pointer])
def test_crash_inside_save_resumes_from_previous_checkpoint(crash, toy_processed: Path, tiny, reference,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    _, encoder = tiny
    config = base_config(toy_processed, encoder, tmp_path / "run")
    ckpt_dir = tmp_path / "run" / "checkpoints"
    with monkeypatch.context() as patch:
        crash(patch)
        with pytest.raises(Crash):
            train(config)
    assert (ckpt_dir / "latest").read_text() == "step-000000004"
    left = {p.name for p in ckpt_dir.iterdir()}
    assert any(name.startswith((".tmp-step-000000006", "step-000000006")) for name in left), left
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the pointer is intact: no fallback, no warning
        assert latest_checkpoint(ckpt_dir) == ckpt_dir / "step-000000004"
    resume_and_compare(config, reference, first_step=5)


# --- a damaged `latest` pointer ---------------------------------------------------------------------------------


@pytest.fixture
def ckpt_copy(four_steps: Path, tmp_path: Path) -> Path:
    shutil.copytree(four_steps, tmp_path / "run")
    return tmp_path / "run" / "checkpoints"


@pytest.mark.parametrize("pointer", [b"step-0000", b"", b"\xff\xfe\x00garbage", b"step-000000099",
                                     b"../checkpoints/step-000000002", b"step-000000004/.."])
def test_damaged_pointer_falls_back_to_newest_complete_checkpoint(pointer: bytes, ckpt_copy: Path):
    (ckpt_copy / "latest").write_bytes(pointer)
    with pytest.warns(RuntimeWarning, match="not a complete checkpoint.*resuming from .*step-000000004"):
        assert latest_checkpoint(ckpt_copy) == ckpt_copy / "step-000000004"


def test_pointer_to_incomplete_checkpoint_falls_back_to_older_one(ckpt_copy: Path):
    (ckpt_copy / "step-000000004" / "trainer.pt").unlink()  # e.g. a rotation killed half-way through
    with pytest.warns(RuntimeWarning, match="resuming from .*step-000000002"):
        assert latest_checkpoint(ckpt_copy) == ckpt_copy / "step-000000002"


def test_no_complete_checkpoint_starts_clean_with_a_warning(ckpt_copy: Path):
    (ckpt_copy / "latest").write_text("step-0")
    for step in ckpt_copy.glob("step-*"):
        (step / "state.json").unlink()
    with pytest.warns(RuntimeWarning, match="none is complete, starting clean"):
        assert latest_checkpoint(ckpt_copy) is None


def test_truncated_pointer_still_resumes_to_the_same_result(ckpt_copy: Path, toy_processed: Path, tiny,
                                                            reference):
    _, encoder = tiny
    (ckpt_copy / "latest").write_text("step-00000")
    with pytest.warns(RuntimeWarning, match="not a complete checkpoint"):
        resume_and_compare(base_config(toy_processed, encoder, ckpt_copy.parent), reference, first_step=5)


def test_rerunning_a_finished_max_steps_run_changes_nothing(four_steps: Path, toy_processed: Path, tiny,
                                                            tmp_path: Path):
    _, encoder = tiny
    shutil.copytree(four_steps, tmp_path / "run")
    result = train(base_config(toy_processed, encoder, tmp_path / "run", max_steps=4),
                   on_step=lambda step, _: pytest.fail(f"trained step {step} past max_steps=4"))
    assert result.steps == 4 and not result.finished
    assert latest_checkpoint(tmp_path / "run" / "checkpoints").name == "step-000000004"
