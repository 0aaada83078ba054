"""What the integration tests share for real processes: free ports, this interpreter's tools on PATH, commands
that must succeed, and scratch copies of the project (one definition, in bench/pipeline.py, for bench and tests)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.pipeline import make_project

BIN = Path(sys.executable).parent  # the venv's bin: mtclin, dvc, mlflow, prefect, uvicorn, torchrun

__all__ = ["BIN", "free_port", "make_project", "mlflow_models_serve", "run", "venv_env"]


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


def mlflow_models_serve(model_uri: str, rows: list[dict[str, Any]], cwd: Path, params: dict[str, Any] | None = None,
                        **env: str) -> list[dict[str, Any]]:
    """Start ``mlflow models serve -m model_uri --env-manager local`` (a real server; ``env`` names the tracking
    URI and anything else it needs), post ``rows`` (and ``params``, when given) once it answers, stop it, and
    return its predictions."""
    port = free_port()
    log = cwd / "serve.log"
    with log.open("wb") as out:  # `mlflow models serve` execs `uvicorn` from PATH: venv_env puts it there
        server = subprocess.Popen([str(BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager",
                                   "local", "-p", str(port)], env=venv_env(**env), cwd=cwd, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        body = json.dumps({"dataframe_records": rows} | ({"params": params} if params else {})).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body,
                                         {"Content-Type": "application/json"})
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return json.load(response)["predictions"]
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"server did not answer: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
