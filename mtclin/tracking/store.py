"""Where runs and models are kept: the tracking URI, the artifact location of our experiments, the client.

Default: a SQLite database ``<project>/mlflow.db`` (MLflow 3 no longer accepts the plain file store for the model
registry) with artifacts under ``<project>/mlartifacts``. ``MLFLOW_TRACKING_URI`` overrides both (a server then
decides its own artifact store).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

DEFAULT_EXPERIMENT = "mt-clinical-bert"  # one experiment for multitask runs, baselines and comparisons
DEFAULT_MODEL_NAME = "mt-clinical-bert"  # registered model name


def project_root() -> Path:
    """The project mtclin works in: ``MTCLIN_PROJECT_DIR`` when set (deploy/serve.sh sets it for workers), else
    the package's checkout when it holds ``dvc.yaml`` (an editable install), else the working directory."""
    if os.environ.get("MTCLIN_PROJECT_DIR"):
        return Path(os.environ["MTCLIN_PROJECT_DIR"])
    here = Path(__file__).resolve().parents[2]
    return here if (here / "dvc.yaml").is_file() else Path.cwd()


def tracking_uri(root: Path | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else ``sqlite:///<project>/mlflow.db``."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{(root or project_root()).resolve() / 'mlflow.db'}"


def artifact_location(uri: str, experiment: str) -> str | None:
    """Where a new experiment's artifacts go: beside the SQLite file (``mlartifacts/<experiment>``) for a
    ``sqlite:///`` store; ``None`` (the server's default) for anything else."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///"):])
    return (db.parent / "mlartifacts" / experiment).resolve().as_uri()


def client(uri: str | None = None):
    """An ``MlflowClient`` on ``uri`` (default: :func:`tracking_uri`); the registry uses the same store."""
    from mlflow import MlflowClient

    uri = uri or tracking_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(name: str = DEFAULT_EXPERIMENT, uri: str | None = None) -> str:
    """The id of experiment ``name``, created (with our artifact location) when missing; a deleted experiment
    of that name is restored rather than shadowed."""
    from mlflow.entities import LifecycleStage

    uri = uri or tracking_uri()
    c = client(uri)
    found = c.get_experiment_by_name(name)
    if found is None:
        return c.create_experiment(name, artifact_location=artifact_location(uri, name))
    if found.lifecycle_stage == LifecycleStage.DELETED:
        c.restore_experiment(found.experiment_id)
    return found.experiment_id


@contextmanager
def using(uri: str) -> Iterator[str]:
    """MLflow's fluent API (``mlflow.start_run``, ``log_model``) pointed at ``uri`` for the duration; the previous
    URI (and the ``MLFLOW_TRACKING_URI`` variable MLflow sets for subprocesses) is put back afterwards."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    previous, env = utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(previous)
        if env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = env
