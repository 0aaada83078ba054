"""The real DVC pipeline on the sample corpora: all eight processed sets, then nothing recomputed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtclin.corpora.registry import CORPORA
from tests.scratch import make_project, run

@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh git + DVC project with this checkout's pipeline files and code and the sample corpora."""
    return make_project(tmp_path / "project", scale=1.0)


@pytest.mark.slow
def test_repro_builds_all_eight_then_recomputes_nothing(project: Path):
    first = run(["dvc", "repro"], project)
    for corpus in CORPORA:
        assert f"Running stage 'preprocess@{corpus}'" in first
        for name in ("train.parquet", "test.parquet", "stats.json"):
            assert (project / "processed" / corpus / name).is_file()
    stamps = {p: p.stat().st_mtime_ns for p in (project / "processed").rglob("*.parquet")}

    second = run(["dvc", "repro"], project)
    assert "Running stage" not in second
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # one corpus's raw data changes: only its stage runs again
    sts = next((project / "data" / "n2c2-2019").rglob("clinicalSTS2019.train.txt"))
    sts.write_text(sts.read_text() + "a new pair\tanother sentence\t2.5\n")
    third = run(["dvc", "repro"], project)
    assert "Running stage 'preprocess@n2c2-2019'" in third
    assert third.count("Running stage") == 1
    metrics = run(["dvc", "metrics", "show", "--json"], project)
    assert "n2c2-2019" in metrics
