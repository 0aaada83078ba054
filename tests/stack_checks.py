"""What "stopped" means for a stack started by deploy/serve.sh or deploy/team/serve.sh: deploy/stop.sh returns in
time and nothing it started is left, checked by pid, by process group and by the stack's marker, and the ports are
closed. Shared by the team stack's tests and the local stack's deployment test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

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


def service_pids(root: Path, state: Path, service: str) -> set[int]:
    """Every live process of a service, as deploy/team/procs.sh finds them (its group and marked descendants);
    ``state``: the stack's state folder (the local stack's ``.mtclin``, the team's ``.mtclin/team``)."""
    listed = subprocess.run(["bash", "-c", f". deploy/team/procs.sh; service_pids '{state}' {service}"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    return {int(p) for p in listed.split()}


def local_service_pids(root: Path) -> set[int]:
    """The local stack's services (deploy/serve.sh): worker, MLflow, Prefect server."""
    return set().union(*(service_pids(root, root / ".mtclin", s)
                         for s in ("prefect-worker", "mlflow-server", "prefect-server")))
