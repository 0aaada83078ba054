from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from mtclin.tracking import lineage

LOCK = """schema: '2.0'
stages:
  preprocess@medrqe:
    cmd: mtclin preprocess medrqe --data data/medrqe --out processed/medrqe
    deps:
    - path: data/medrqe
      hash: md5
      md5: aaaa0000aaaa0000aaaa0000aaaa0000.dir
      size: 10
      nfiles: 2
    - path: mtclin/corpora/medrqe.py
      hash: md5
      md5: bbbb
    outs:
    - path: processed/medrqe/test.parquet
      hash: md5
      md5: {test}
    - path: processed/medrqe/train.parquet
      hash: md5
      md5: {train}
"""
DATA_DVC = """outs:
- md5: d24438e8bcca11013bfaac769b9bf6bb.dir
  size: 815904
  nfiles: 400
  hash: md5
  path: data
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    processed = tmp_path / "processed" / "medrqe"
    processed.mkdir(parents=True)
    (processed / "train.parquet").write_bytes(b"train rows")
    (processed / "test.parquet").write_bytes(b"test rows")
    md5 = {s: hashlib.md5(f"{s} rows".encode()).hexdigest() for s in ("train", "test")}
    (tmp_path / "dvc.lock").write_text(LOCK.format(**md5))
    (tmp_path / "data.dvc").write_text(DATA_DVC)
    return tmp_path


def test_dvc_hashes_per_corpus(project: Path) -> None:
    tags = lineage.dvc_state(project, ["medrqe", "mednli"], project / "processed")
    assert tags["mtclin.dvc.data"] == "d24438e8bcca11013bfaac769b9bf6bb.dir"
    assert tags["mtclin.dvc.medrqe.raw"] == "aaaa0000aaaa0000aaaa0000aaaa0000.dir"
    assert tags["mtclin.dvc.medrqe.out.train.parquet"] == hashlib.md5(b"train rows").hexdigest()
    assert tags["mtclin.dvc.medrqe.out.test.parquet"] == hashlib.md5(b"test rows").hexdigest()
    assert tags["mtclin.dvc.medrqe.outs_match"] == "true"
    assert tags["mtclin.dvc.missing"] == "mednli"
    assert not any(k.startswith("mtclin.dvc.mednli.") for k in tags)


def test_processed_files_that_dvc_did_not_make_are_flagged(project: Path) -> None:
    (project / "processed" / "medrqe" / "train.parquet").write_bytes(b"edited by hand")
    assert lineage.dvc_state(project, ["medrqe"], project / "processed")["mtclin.dvc.medrqe.outs_match"] == "false"


def test_no_dvc_files_no_dvc_tags(tmp_path: Path) -> None:
    assert lineage.dvc_state(tmp_path, ["medrqe"]) == {"mtclin.dvc.missing": "medrqe"}


def test_broken_lock_names_the_file_and_the_fix(project: Path) -> None:
    (project / "dvc.lock").write_text("stages: [unclosed\n")
    with pytest.raises(ValueError, match=r"dvc\.lock:2:1: not valid YAML .*dvc repro"):
        lineage.dvc_state(project, ["medrqe"])


def test_git_state_of_the_checkout_and_outside_git(tmp_path: Path) -> None:
    here = lineage.git_state(Path(__file__).resolve().parents[2])
    assert re.fullmatch(r"[0-9a-f]{40}", here["mtclin.git.commit"])
    assert here["mtclin.git.dirty"] in ("true", "false")
    assert lineage.git_state(tmp_path) == {"mtclin.git.commit": "unknown", "mtclin.git.dirty": "unknown"}
