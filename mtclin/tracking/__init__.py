"""Experiment tracking and the model registry: the only part of mtclin that imports MLflow.

    store       tracking URI (SQLite ``mlflow.db`` in the project by default), experiment, client
    lineage     git commit and DVC hashes of the data a run used (tags)
    runs        one training run: params, tags, per-task metrics per epoch, step losses, figures, system metrics
    plots       learning curves, per-type F1 bars, confusion matrices (PNG)
    pyfunc      the multitask model as an MLflow pyfunc (model_code.py: the "models from code" entry point)
    registry    log + register a model version with alias ``candidate``, all or nothing
    promotion   the quality gate that moves alias ``production``
    compare     the paper's Table 2 (multitask vs best single-task) from tagged runs

Typical use (what flows/ and the CLI call)::

    done = track_training(config, register=True)           # run logged, version registered as @candidate
    promote("mt-clinical-bert", "candidate", tolerance=0.01)  # @production moves, or PromotionRefused
"""

from mtclin.tracking.promotion import PromotionDecision, PromotionRefused, promote
from mtclin.tracking.registry import CANDIDATE, PRODUCTION, RegistrationError, log_and_register
from mtclin.tracking.runs import TrackedTraining, TrainingRun, start_training_run, step_logger, track_training
from mtclin.tracking.store import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, tracking_uri

__all__ = [
    "CANDIDATE", "DEFAULT_EXPERIMENT", "DEFAULT_MODEL_NAME", "PRODUCTION", "PromotionDecision", "PromotionRefused",
    "RegistrationError", "TrackedTraining", "TrainingRun", "log_and_register", "promote", "start_training_run",
    "step_logger", "track_training", "tracking_uri",
]
