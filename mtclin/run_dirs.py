"""Where a training run keeps its checkpoints and model: a directory named by what determines the result.

The name hashes the training configuration and the versions (DVC hashes) of the processed data it trains on, so
re-running the same flow after a crash finds its checkpoints and resumes, while two runs with different
parameters (or new data) never share a directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from mtclin.dvc_stages import lock_stages, stage_name


def processed_versions(project_dir: Path, corpora: Sequence[str]) -> dict[str, str]:
    """Per corpus, the md5 of its processed outputs as recorded in ``dvc.lock`` ("" where not yet built)."""
    stages = lock_stages(project_dir)
    out = {}
    for corpus in corpora:
        outs = stages.get(stage_name(corpus), {}).get("outs", [])
        out[corpus] = ",".join(sorted(str(o.get("md5", "")) for o in outs))
    return out


# settings that change where a run writes, how it reports or when it stops, not what each step computes: a run
# stopped at 4 epochs continues in the same directory when asked for 8
_NOT_IN_KEY = ("output_dir", "progress", "log_every_steps", "log_every_seconds", "epochs", "patience", "max_steps",
               "checkpoint_every", "keep_checkpoints")


def run_key(config: Mapping[str, Any], data_versions: Mapping[str, str],
            defaults: Mapping[str, Any] | None = None) -> str:
    """A short stable hash of the config (minus where it writes, how it reports, when it stops) and the data versions.
    With ``defaults``, settings left at their default are left out, so a setting added to mtclin later does not
    move existing runs to new directories (their checkpoints stay resumable)."""
    relevant = {k: v for k, v in config.items() if k not in _NOT_IN_KEY
                and (defaults is None or k not in defaults or as_saved(v) != as_saved(defaults[k]))}
    blob = json.dumps({"config": relevant, "data": dict(data_versions)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def as_saved(value: Any) -> Any:
    """A setting as it reads back from JSON (tuples become lists), so saved and live configs compare equal."""
    return json.loads(json.dumps(value, default=str))


def keyed_run(project_dir: Path, config: Any, fresh: bool = False) -> tuple[str, Any]:
    """``(key, config with output_dir = <project>/runs/<key>)`` for a config whose corpora were preprocessed in
    ``project_dir``. ``fresh``: a key of its own (a new run directory even for the same config and data)."""
    from dataclasses import replace

    key = run_key(config.to_dict(), processed_versions(project_dir, config.corpora), type(config)().to_dict())
    if fresh:
        key = f"{key}-{time.time_ns()}-{os.getpid()}"
    return key, replace(config, output_dir=str(Path(project_dir) / "runs" / key))
