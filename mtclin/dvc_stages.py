"""Running the DVC preprocessing stages of chosen corpora (what the pipeline's preprocess step calls).

DVC decides what to recompute: a stage whose raw folder, reader code and params section are unchanged is skipped.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence


@contextmanager
def _interpreter_on_path() -> Iterator[None]:
    """Stage commands call `mtclin`: make it this interpreter's, even when the venv is not activated."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved}"
    try:
        yield
    finally:
        os.environ["PATH"] = saved


def stage_name(corpus: str) -> str:
    return f"preprocess@{corpus}"


def reproduce(project_dir: Path, corpora: Sequence[str]) -> list[str]:
    """``dvc repro`` of the corpora's preprocess stages in ``project_dir``; returns the stages that ran (empty
    when nothing changed). Raises ``dvc.exceptions.DvcException`` (e.g. the repo lock is held by another run)."""
    from dvc.repo import Repo

    project_dir = Path(project_dir).resolve()
    missing = [c for c in corpora if not (project_dir / "data" / c).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"no raw corpus directory for {', '.join(missing)} under {project_dir / 'data'}: unpack the official "
            "release there (see README) or run `mtclin sample-corpora data`"
        )
    with _interpreter_on_path(), Repo(str(project_dir)) as repo:
        ran = repo.reproduce(targets=[stage_name(c) for c in corpora])
    return [stage.addressing for stage in ran]
