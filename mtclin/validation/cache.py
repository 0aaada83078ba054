"""When a validation result can be reused: the same processed data (DVC hashes), suites and corpora."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from mtclin.run_dirs import processed_versions
from mtclin.validation.gate import SUITES_DIR


def validation_key(processed_dir: Path, corpora: Sequence[str]) -> str | None:
    """A key naming exactly what validation checks, or None when a corpus's processed data is not versioned in
    ``dvc.lock`` (then a result must never be reused). ``processed_dir`` is ``<project>/processed``."""
    processed = Path(processed_dir)
    versions = processed_versions(processed.parent, corpora)
    if not all(versions.values()):
        return None
    suites = {p.name: p.read_text() for p in sorted(Path(SUITES_DIR).glob("*.json"))}
    blob = json.dumps({"data": versions, "suites": suites, "dir": str(processed)}, sort_keys=True)
    return "validate-" + hashlib.sha256(blob.encode()).hexdigest()
