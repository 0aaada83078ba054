"""Running the DVC preprocessing stages of chosen corpora (what the pipeline's preprocess step calls).

DVC decides what to recompute: a stage whose raw folder, reader code and params section are unchanged is skipped.
DVC runs as a subprocess in the project directory: its API resolves paths against the process's working
directory, which a library must not change.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Sequence


class PreprocessingError(RuntimeError):
    pass


def stage_name(corpus: str) -> str:
    return f"preprocess@{corpus}"


def reproduce(project_dir: Path, corpora: Sequence[str]) -> list[str]:
    """``dvc repro`` of the corpora's preprocess stages in ``project_dir``; returns the stages that ran (empty
    when nothing changed). Raises :class:`PreprocessingError` with DVC's message (e.g. a reader error naming the
    file and line, or the repo lock held by another run)."""
    project_dir = Path(project_dir).resolve()
    missing = [c for c in corpora if not (project_dir / "data" / c).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"no raw corpus directory for {', '.join(missing)} under {project_dir / 'data'}: unpack the official "
            "release there (see README) or run `mtclin sample-corpora data`"
        )
    # stage commands call `mtclin`: make it this interpreter's, even when the venv is not activated
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", *[stage_name(c) for c in corpora]],
                          cwd=project_dir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise PreprocessingError(f"dvc repro failed in {project_dir} (exit {done.returncode}):\n"
                                 f"{done.stderr.strip()[-4000:]}")
    return re.findall(r"Running stage '([^']+)'", done.stdout)
