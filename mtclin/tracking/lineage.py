"""What a run was made from: the project's git commit and the DVC hashes of each corpus's raw and processed data.

Read-only: git is asked with optional locks off (no index refresh), dvc.lock and data.dvc are parsed as YAML.
Tags (all values are hashes, booleans or comma lists; no content of any file):
    mtclin.git.commit, mtclin.git.dirty                  "unknown" outside a git checkout
    mtclin.dvc.data                                      data.dvc's md5 of the whole data/ directory
    mtclin.dvc.<corpus>.raw                              dvc.lock: md5 of dep data/<corpus> of preprocess@<corpus>
    mtclin.dvc.<corpus>.out.<file>                       dvc.lock: md5 of each output (train.parquet, ...)
    mtclin.dvc.<corpus>.outs_match                       do the processed files used match dvc.lock's outs?
    mtclin.dvc.missing                                   corpora with no preprocess stage in dvc.lock
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Iterable

from mtclin.dvc_stages import lock_stages, read_yaml, stage_name

PREFIX = "mtclin."


def git_state(root: Path) -> dict[str, str]:
    """``{"mtclin.git.commit": sha, "mtclin.git.dirty": "true"|"false"}`` (tracked files only)."""
    env = os.environ | {"GIT_OPTIONAL_LOCKS": "0"}  # never write .git/index from here

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                              env=env, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {f"{PREFIX}git.commit": "unknown", f"{PREFIX}git.dirty": "unknown"}
    return {f"{PREFIX}git.commit": commit, f"{PREFIX}git.dirty": str(dirty).lower()}


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dvc_state(root: Path, corpora: Iterable[str], processed_dir: Path | None = None) -> dict[str, str]:
    """Tags for each corpus from ``root/dvc.lock`` and for the raw data from ``root/data.dvc`` (absent files
    give no tags). ``processed_dir``: where training read ``<corpus>/*.parquet``; each output that exists there
    is hashed and compared with dvc.lock (``outs_match`` false: trained on data DVC did not produce)."""
    tags: dict[str, str] = {}
    data_dvc = root / "data.dvc"
    if data_dvc.is_file():
        outs = read_yaml(data_dvc).get("outs") or []
        if outs and outs[0].get("md5"):
            tags[f"{PREFIX}dvc.data"] = str(outs[0]["md5"])
    stages = lock_stages(root)
    missing = []
    for corpus in corpora:
        stage = stages.get(stage_name(corpus))
        if stage is None:
            missing.append(corpus)
            continue
        key = f"{PREFIX}dvc.{corpus}"
        for dep in stage.get("deps", []):
            if dep.get("path") == f"data/{corpus}":
                tags[f"{key}.raw"] = str(dep.get("md5"))
        matches = []
        for out in stage.get("outs", []):
            name = Path(out["path"]).name
            tags[f"{key}.out.{name}"] = str(out.get("md5"))
            used = processed_dir / corpus / name if processed_dir is not None else None
            if used is not None and used.is_file():
                matches.append(_md5(used) == out.get("md5"))
        if matches:
            tags[f"{key}.outs_match"] = str(all(matches)).lower()
    if missing:
        tags[f"{PREFIX}dvc.missing"] = ",".join(missing)
    return tags


def lineage_tags(root: Path, corpora: Iterable[str], processed_dir: Path | None = None) -> dict[str, str]:
    """git state and DVC hashes of ``root`` for ``corpora`` (see the module docstring)."""
    return git_state(root) | dvc_state(root, corpora, processed_dir)
