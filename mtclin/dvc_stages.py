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
from typing import Any, Sequence

import yaml


class PreprocessingError(RuntimeError):
    pass


def read_yaml(path: Path) -> dict[str, Any]:
    """A DVC file (dvc.lock, data.dvc) as a dict ({} when absent); invalid YAML is an error naming file:line."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or type(err).__name__
        raise ValueError(f"{path}{where}: not valid YAML ({problem}); restore it with `git checkout {path.name}` "
                         f"or regenerate it with `dvc repro`") from None
    return data if isinstance(data, dict) else {}


def lock_stages(project_dir: Path) -> dict[str, Any]:
    """The stages recorded in ``project_dir/dvc.lock`` (name -> deps/outs with their md5s)."""
    return read_yaml(Path(project_dir) / "dvc.lock").get("stages") or {}


def stage_name(corpus: str) -> str:
    """The DVC stage preprocessing ``corpus`` (see dvc.yaml): ``preprocess@<name>`` for a built-in corpus,
    ``declared@<name>`` for one declared in the project's corpora.yaml; a derived task (assertion, relation) has no
    stage of its own: its source corpus's."""
    from mtclin.corpora.registry import BUILTIN, source_of

    corpus = source_of(corpus)
    return f"preprocess@{corpus}" if corpus in BUILTIN else f"declared@{corpus}"


def reproduce(project_dir: Path, corpora: Sequence[str]) -> list[str]:
    """``dvc repro`` of the corpora's preprocess stages in ``project_dir``; returns the stages that ran (empty
    when nothing changed). Raises :class:`PreprocessingError` with DVC's message (e.g. a reader error naming the
    file and line, or the repo lock held by another run)."""
    from mtclin.corpora.registry import source_of

    project_dir = Path(project_dir).resolve()
    corpora = list(dict.fromkeys(source_of(c) for c in corpora))  # a derived task is preprocessed as its source
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
