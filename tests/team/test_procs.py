"""deploy/team/procs.sh, which both stacks use to start and stop their servers: a stop ends the whole process
group and every marked descendant (even one that left the group for a session of its own), escalates to SIGKILL
for what ignores SIGTERM, returns only once all of it has exited, and never signals a pid it did not start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# a process that ignores SIGTERM, as a worker stuck in its graceful shutdown does
STUBBORN = f"{sys.executable} -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'"


def procs(state: Path, command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f". deploy/team/procs.sh; {command}"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=os.environ | env)


def pids_of(state: Path, name: str) -> set[int]:
    return {int(p) for p in procs(state, f"service_pids '{state}' {name}").stdout.split()}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stop_ends_the_group_and_escaped_descendants_with_sigkill_when_ignored(tmp_path: Path) -> None:
    # the service: a shell, a child in its group, and a grandchild that moved to a session of its own
    started = procs(tmp_path, f"start_service '{tmp_path}' svc bash -c \"setsid {STUBBORN} & {STUBBORN} & wait\"")
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 60
    while len(pids_of(tmp_path, "svc")) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    pids = pids_of(tmp_path, "svc")
    assert len(pids) == 3 and len({os.getsid(p) for p in pids}) == 2  # one escaped the session
    assert procs(tmp_path, f"service_running '{tmp_path}' svc").returncode == 0

    began = time.monotonic()
    stopped = procs(tmp_path, f"stop_service '{tmp_path}' svc TERM 2")
    assert stopped.returncode == 0, stopped.stderr
    assert "sending SIGKILL" in stopped.stderr
    assert time.monotonic() - began < 30
    assert not [p for p in pids if alive(p)], "stop_service returned while processes were alive"
    assert not (tmp_path / "svc.pid").exists()
    assert procs(tmp_path, f"service_running '{tmp_path}' svc").returncode == 1


def test_a_pid_reused_by_another_process_is_not_signalled(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "300"])
    try:
        (tmp_path / "svc.pid").write_text(f"{stranger.pid} 1\n")  # recorded start time: not the stranger's
        stopped = procs(tmp_path, f"stop_service '{tmp_path}' svc TERM 1")
        assert stopped.returncode == 0, stopped.stderr
        assert stranger.poll() is None, "an unrelated process was signalled"
        assert not (tmp_path / "svc.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_stopping_what_never_started_is_quiet(tmp_path: Path) -> None:
    stopped = procs(tmp_path, f"stop_service '{tmp_path}' nothing")
    assert stopped.returncode == 0 and not stopped.stderr
