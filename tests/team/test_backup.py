"""deploy/team/backup.sh on the running stack: a restorable dump of each database and a copy of both buckets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.team.conftest import Stack


@pytest.mark.slow
def test_backup_dumps_the_databases_and_copies_the_buckets(team: Stack, trained, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    done = team.script("backup.sh", str(out), timeout=300)
    assert done.returncode == 0, done.stderr
    for db in ("mlflow", "mlflow_auth", "prefect"):
        dump = out / f"{db}.dump"
        assert dump.read_bytes()[:5] == b"PGDMP", f"{dump} is no pg_dump archive"
    copied = {p.relative_to(out / "s3" / "mtclin-mlflow").as_posix()
              for p in (out / "s3" / "mtclin-mlflow").rglob("*") if p.is_file()}
    assert copied == set(team.objects("mtclin-mlflow"))
    secrets = team.secrets.values()
    assert not [p for p in out.rglob("*.dump") if any(s.encode() in p.read_bytes() for s in secrets)]
