"""Where a training run keeps its checkpoints and model: a directory named by what determines the result.

The name hashes the training configuration and the versions (DVC hashes) of the processed data it trains on, so
re-running the same flow after a crash finds its checkpoints and resumes, while two runs with different
parameters (or new data) never share a directory.
"""

from __future__ import annotations

import hashlib
import json
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


def run_key(config: Mapping[str, Any], data_versions: Mapping[str, str]) -> str:
    """A short stable hash of the config (minus where it writes) and the data versions."""
    relevant = {k: v for k, v in config.items() if k not in ("output_dir", "progress")}
    blob = json.dumps({"config": relevant, "data": dict(data_versions)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
