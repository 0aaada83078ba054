"""`make stop` (deploy/stop.sh) ends exactly what the stacks started, flow runs in their own sessions included, and
returns only once all of it has exited: checked by pid, by process group and by the stack's marker."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.scratch import free_port
from tests.team.conftest import SERVICES, VENV, Stack, clean_env, tiny_params

STOP_BOUND = 120  # seconds: generous for a loaded 2-core machine; the stop itself escalates to SIGKILL at 20 s


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited: only its parent can reap it


def leftovers(pids: set[int], groups: set[int], marker: str) -> list[str]:
    """Live processes among pids, in one of the groups, or carrying the marker."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not alive(int(entry.name)):
            continue
        pid = int(entry.name)
        try:
            group = os.getpgid(pid)
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if pid in pids or group in groups or marker.encode() in environ:
            out.append(f"{pid} (group {group}): {cmdline}")
    return out


def closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def stop_and_check(root: Path, state: Path, env: dict[str, str], pids: set[int], ports: list[int]) -> None:
    groups = {os.getpgid(p) for p in pids if alive(p)}
    marker = f"MTCLIN_STACK={(state / 'stack-id').read_text().strip()}/"
    started = time.monotonic()
    stopped = subprocess.run(["bash", "deploy/stop.sh"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=STOP_BOUND + 60)
    took = time.monotonic() - started
    assert stopped.returncode == 0, stopped.stderr
    assert took < STOP_BOUND, f"stop took {took:.0f}s"
    left = leftovers(pids, groups, marker)
    assert not left, f"still running after stop ({took:.0f}s):\n" + "\n".join(left)
    assert all(closed(p) for p in ports)
    assert not list(state.glob("*.pid"))


@pytest.mark.slow
def test_stop_ends_the_team_stack_with_a_flow_run_in_flight(team: Stack, trained, tiny) -> None:
    flow_run_id = team.run_deployment("train-multitask/team", tiny_params(tiny[1], seed=5, fresh=True))
    deadline = time.monotonic() + 300
    while team.flow_run(flow_run_id)["state_type"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(5)  # into the flow: its process (in a session of its own) has started work
    pids = set().union(*(team.service_pids(s) for s in SERVICES))
    workers = team.service_pids("prefect-worker")
    assert len(workers) > 1, "the flow run's process is not among the worker's"
    assert len({os.getsid(p) for p in workers if alive(p)}) > 1, "no flow run in a session of its own"
    stop_and_check(team.root, team.team_dir, team.env, pids, list(team.ports.values()))


@pytest.mark.slow
def test_stop_ends_the_local_stack_after_a_deployment_run(team_project: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(team_project, root, symlinks=True, ignore=shutil.ignore_patterns(".mtclin", "runs"))
    env = clean_env() | {"VENV": str(VENV), "PREFECT_HOME": str(tmp_path / "prefect-home"),
                         "PREFECT_PORT": str(free_port()), "MLFLOW_PORT": str(free_port()),
                         "PREFECT_WORKER_QUERY_SECONDS": "2", "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{env['PREFECT_PORT']}/api"
    state = root / ".mtclin"
    try:
        started = subprocess.run(["bash", "deploy/serve.sh"], cwd=root, env=env, capture_output=True, text=True,
                                 timeout=400)
        assert started.returncode == 0, started.stdout + started.stderr
        # a short deployment run (nothing is registered yet, so the gate refuses): the worker has run a flow
        run = subprocess.run(["prefect", "deployment", "run", "promote-model/local", "--params",
                              json.dumps({"model_name": "none-registered"}), "--watch", "--watch-timeout", "300"],
                             cwd=root, env=env, capture_output=True, text=True, timeout=360)
        assert "Failed" in run.stdout + run.stderr, (run.stdout + run.stderr)[-2000:]
        script = f". deploy/team/procs.sh; for s in prefect-worker mlflow-server prefect-server; do " \
                 f"service_pids {state} $s; done"
        pids = {int(p) for p in subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True,
                                               check=True).stdout.split()}
        assert len(pids) >= 3
        stop_and_check(root, state, env, pids, [int(env["PREFECT_PORT"]), int(env["MLFLOW_PORT"])])
    finally:
        subprocess.run(["bash", "deploy/stop.sh"], cwd=root, env=env, capture_output=True, timeout=300)
