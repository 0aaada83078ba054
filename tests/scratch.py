"""What the integration tests share for real processes: free ports, this interpreter's tools on PATH, commands
that must succeed, and scratch copies of the project (one definition, in bench/pipeline.py, for bench and tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bench.pipeline import make_project

BIN = Path(sys.executable).parent  # the venv's bin: mtclin, dvc, mlflow, prefect, uvicorn, torchrun

__all__ = ["BIN", "free_port", "make_project", "run", "venv_env"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_env(**extra: str) -> dict[str, str]:
    """The environment with this interpreter's tools first on PATH (stage commands and servers call them)."""
    return os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"} | extra


def run(cmd: list[str], cwd: Path) -> str:
    """Run a command that must succeed; its stdout and stderr."""
    done = subprocess.run(cmd, cwd=cwd, env=venv_env(DVC_NO_ANALYTICS="1"), capture_output=True, text=True)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr
