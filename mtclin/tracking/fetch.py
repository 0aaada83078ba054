"""A model given by reference: a saved model directory, or a registered version (``models:/NAME@ALIAS``,
``models:/NAME/3``) fetched from the registry into a local directory."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from mtclin.tracking import store

MODEL_IN_PYFUNC = Path("artifacts") / "model"  # where log_and_register puts the mtclin directory in the pyfunc


@dataclass(frozen=True)
class ModelRef:
    path: Path  # a local mtclin model directory (tasks.json inside)
    name: str | None = None  # registered model name and version, for a models:/ reference
    version: str | None = None

    @property
    def pinned(self) -> str:
        """The reference as it stays true: a registry alias moves, so runs started from it are keyed and tagged by
        the version it points at now (a directory by its absolute path)."""
        return f"models:/{self.name}/{self.version}" if self.name else str(self.path.resolve())


def parse_registry_ref(ref: str) -> tuple[str, str] | None:
    """``models:/NAME@ALIAS`` -> (NAME, ALIAS); ``models:/NAME/3`` -> (NAME, "3"); anything else None."""
    if not ref.startswith("models:/"):
        return None
    body = ref[len("models:/"):]
    name, sep, alias = body.partition("@")
    if not sep:
        name, _, alias = body.rpartition("/")
    if not name or not alias:
        raise ValueError(f"{ref!r}: expected models:/NAME@ALIAS or models:/NAME/VERSION")
    return name, alias


@contextmanager
def local_model(ref: str | Path, uri: str | None = None) -> Iterator[ModelRef]:
    """The model ``ref`` as a local directory for the duration of the block (a registry version is downloaded
    into a temporary directory, removed afterwards)."""
    parsed = parse_registry_ref(str(ref))
    if parsed is None:
        path = Path(ref)
        if not (path / "tasks.json").is_file():
            raise FileNotFoundError(f"{path}: not a saved mtclin model directory (no tasks.json); pass a model "
                                    "directory (e.g. runs/<key>/model) or models:/NAME@ALIAS")
        yield ModelRef(path)
        return
    import mlflow.artifacts

    from mtclin.tracking.registry import resolve_version

    name, alias = parsed
    uri = uri or store.tracking_uri()
    version = resolve_version(store.client(uri), name, alias)
    with tempfile.TemporaryDirectory(prefix="mtclin-model-") as tmp, store.using(uri):
        local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version.version}", dst_path=tmp)
        path = Path(local) / MODEL_IN_PYFUNC
        if not (path / "tasks.json").is_file():
            raise FileNotFoundError(f"models:/{name}/{version.version} holds no mtclin model at {MODEL_IN_PYFUNC}")
        yield ModelRef(path, name, str(version.version))


@contextmanager
def fetched_init(config: Any, uri: str | None = None) -> Iterator[tuple[Any, Path | None]]:
    """``(config, init_dir)`` for the block: the model a training config starts from (``config.init``) as a local
    directory, and the config with ``init`` pinned (:attr:`ModelRef.pinned`); ``(config, None)`` without ``init``."""
    if not config.init:
        yield config, None
        return
    with local_model(config.init, uri) as ref:
        yield replace(config, init=ref.pinned), ref.path
