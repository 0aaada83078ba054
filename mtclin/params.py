"""Reading `params.yaml`, the DVC parameters file (preprocessing sections and training defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mtclin.preprocess.tables import PreprocessConfig


def load_params(path: Path) -> dict[str, Any]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: parameters file not found (run from the project root or pass --params)")
    return yaml.safe_load(Path(path).read_text()) or {}


def load_preprocess_config(path: Path, corpus: str) -> tuple[PreprocessConfig, bool]:
    """The ``preprocess.<corpus>`` section (falling back to ``preprocess.default``) and its ``lenient`` flag."""
    section = load_params(path).get("preprocess", {})
    values = dict(section.get("default", {})) | dict(section.get(corpus, {}))
    lenient = bool(values.pop("lenient", False))
    known = set(PreprocessConfig.__dataclass_fields__)
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{path}: preprocess.{corpus}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return PreprocessConfig(**values), lenient
