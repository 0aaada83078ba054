"""Atomic checkpoints: model, optimizer, AMP scaler, RNG states and the loop's position.

A checkpoint directory is written under a temporary name and renamed into place; only then does the ``latest``
pointer (itself replaced atomically) name it. A crash while writing leaves a stray temp directory that resume
never picks. Tensors go to safetensors or to ``torch.save`` files that load with ``weights_only=True`` (no
arbitrary pickle).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model as load_safetensors_model
from safetensors.torch import save_model as save_safetensors_model

LATEST = "latest"
CHECKPOINT_FILES = ("model.safetensors", "trainer.pt", "state.json")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": json.dumps(random.getstate())}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    py = json.loads(state["python"])
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: Path, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler | None, state: dict[str, Any], keep: int = 2) -> Path:
    """Write ``root/step-<step>`` atomically, point ``root/latest`` at it, keep the ``keep`` newest."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:09d}"
    tmp = root / f".tmp-step-{step:09d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    save_safetensors_model(model, str(tmp / "model.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "rng": rng_state()}, tmp / "trainer.pt")
    (tmp / "state.json").write_text(json.dumps(state | {"step": step}, indent=2, sort_keys=True))
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(root)
    pointer = root / f".{LATEST}.tmp{os.getpid()}"
    pointer.write_text(final.name)
    os.replace(pointer, root / LATEST)
    _fsync_dir(root)
    for old in sorted(p for p in root.glob("step-*") if p.is_dir())[:-keep]:
        shutil.rmtree(old)
    return final


def _complete(root: Path, name: str) -> bool:
    """``root/name`` is a ``step-N`` directory holding every file :func:`save_checkpoint` writes (it appears by
    an atomic rename, so only an interrupted rotation or replacement can leave one with files missing)."""
    return (re.fullmatch(r"step-\d+", name) is not None
            and all((root / name / file).is_file() for file in CHECKPOINT_FILES))


def latest_checkpoint(root: Path) -> Path | None:
    """The checkpoint ``latest`` points at, or None (no pointer: no checkpoint committed yet).

    A pointer that cannot be read or names no complete checkpoint (truncated, corrupted, or its directory gone)
    falls back, with a warning, to the newest complete ``step-N`` directory, or to None (start clean)."""
    root = Path(root)
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if _complete(root, name):
        return root / name
    found = [p for p in root.glob("step-*") if _complete(root, p.name)]
    newest = max(found, key=lambda p: int(p.name.split("-")[1])) if found else None
    warnings.warn(f"{pointer}: names {name!r}, not a complete checkpoint in {root}; "
                  + (f"resuming from the newest complete one, {newest.name}" if newest else
                     "none is complete, starting clean")
                  + " (delete the checkpoints directory or pass --no-resume to start over)",
                  RuntimeWarning, stacklevel=2)
    return newest


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler | None, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Restore everything saved by :func:`save_checkpoint`; returns the loop state (incl. ``step``)."""
    path = Path(path)
    load_safetensors_model(model, str(path / "model.safetensors"), device=str(device))
    trainer = torch.load(path / "trainer.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(trainer["optimizer"])
    if scaler is not None and trainer["scaler"] is not None:
        scaler.load_state_dict(trainer["scaler"])
    set_rng_state(trainer["rng"])
    return json.loads((path / "state.json").read_text())
