"""Flow `train-multitask`: preprocess (DVC) -> validate (GX) -> train (best epoch on dev, then test once) -> log +
register (MLflow).

Every task is a thin call into `mtclin`. Note text never reaches Prefect: tasks take and return paths, configs
and metrics only, and log counts and names.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from mtclin.corpora.registry import CORPORA
from mtclin.train.config import TrainConfig


# DVC holds a repo lock while reproducing: a concurrent run waits and retries rather than failing.
@task(name="preprocess", retries=3, retry_delay_seconds=[5, 15, 30], cache_policy=NO_CACHE)
def preprocess(project_dir: Path, corpora: list[str]) -> list[str]:
    from mtclin.dvc_stages import reproduce

    ran = reproduce(project_dir, corpora)
    get_run_logger().info("DVC stages run: %s", ", ".join(ran) or "none (data unchanged)")
    return ran


def validation_cache_key(context, parameters: dict[str, Any]) -> str:
    """Validation depends only on the processed data (their DVC hashes), the suites and the corpora: a re-run
    over unchanged data reuses the previous (passing) result instead of running GX again."""
    from mtclin.validation.cache import validation_key

    key = validation_key(Path(parameters["processed_dir"]), parameters["corpora"])
    return key or f"unversioned-{time.time_ns()}"  # no dvc.lock entry: never reuse


@task(name="validate", cache_key_fn=validation_cache_key, persist_result=True)
def validate(processed_dir: Path, corpora: list[str], results_dir: Path) -> dict[str, Any]:
    from mtclin.validation import require_valid

    report = require_valid(processed_dir, corpora, results_dir)
    get_run_logger().info("data validation passed: %d splits", len(report.splits))
    return {"success": report.success, "splits": len(report.splits)}


@task(name="train", cache_policy=NO_CACHE)
def train_model(config: TrainConfig, on_step, on_epoch):
    """Train, selecting the epoch on the selection split; the selected model is scored on test once."""
    from mtclin.tasks import primary_metric_for
    from mtclin.train.loop import train

    logger = get_run_logger()

    def on_epoch_logged(epoch: int, metrics: dict[str, dict[str, Any]]) -> None:
        on_epoch(epoch, metrics)
        primary = {t: m[primary_metric_for(t)] for t, m in metrics.items()}
        logger.info("epoch %d (%s): %s", epoch, config.selection,
                    ", ".join(f"{t} {v:.3f}" for t, v in primary.items()))

    result = train(config, on_step=on_step, on_epoch=on_epoch_logged, log=logger.info)
    if result.resumed_from_step:
        logger.info("resumed from the checkpoint at step %d", result.resumed_from_step)
    logger.info("trained %d steps%s; selected epoch %d; test score %.4f", result.steps,
                " (stopped early)" if result.stopped_early else "", result.best_epoch,
                result.test["score"] if result.test else float("nan"))
    return result


# Registration talks to the tracking server: a transient network error is retried; a broken model is not
# (log_and_register deletes a half-made version and raises RegistrationError, which retrying cannot fix).
@task(name="register", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE,
      retry_condition_fn=lambda task, run, state: not _is_registration_error(state))
def register(run_id: str, model_dir: Path, primary: dict, model_name: str, uri: str, tags: dict[str, str]) -> str:
    from mtclin.tracking.registry import log_and_register

    version = log_and_register(run_id, model_dir, primary, model_name, uri, tags=tags)
    get_run_logger().info("registered %s version %s with alias candidate", model_name, version.version)
    return str(version.version)


def _is_registration_error(state) -> bool:
    from mtclin.tracking.registry import RegistrationError

    try:
        state.result()
    except RegistrationError:
        return True
    except Exception:
        return False
    return False


@flow(name="train-multitask")
def train_multitask(
    corpora: list[str] = list(CORPORA),
    schedule: str = "round_robin",
    encoder: str = "minilm",
    epochs: int = 3,
    selection: str = "dev",
    patience: int = 2,
    learning_rate: float = 5e-5,
    ner_batch_size: int = 25,
    pair_batch_size: int = 40,
    max_length: int = 128,
    seed: int = 0,
    temperature: float = 2.0,
    limit_train: int = 0,
    limit_eval: int = 0,
    device: str = "auto",
    checkpoint_every: int = 200,
    ner_heads: dict[str, str] | None = None,
    project_dir: str = ".",
    experiment: str = "mt-clinical-bert",
    model_name: str = "mt-clinical-bert",
    register_model: bool = True,
    fresh: bool = False,
) -> dict[str, Any]:
    """Train the multitask model on the chosen corpora and register it as a `candidate` version.

    ``selection``: ``dev`` (the best epoch on dev, at most ``epochs``, stopping after ``patience`` epochs without
    improvement; test scored once for it) or ``paper`` (the paper's protocol: train+dev, best epoch on test). A
    re-run with the same parameters and data resumes from its checkpoints (after a crash) instead of starting
    over; ``fresh=True`` starts a new run directory regardless."""
    from mtclin.evaluate.report import metrics_markdown
    from mtclin.run_dirs import keyed_run
    from mtclin.tracking import store
    from mtclin.tracking.runs import start_training_run, version_tags

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    preprocess(project, corpora)
    processed = project / "processed"
    config = TrainConfig(corpora=tuple(corpora), processed_dir=str(processed), encoder=encoder,
                         schedule=schedule, epochs=epochs, selection=selection, patience=patience,
                         learning_rate=learning_rate,
                         ner_batch_size=ner_batch_size, pair_batch_size=pair_batch_size, max_length=max_length,
                         seed=seed, temperature=temperature, limit_train=limit_train, limit_eval=limit_eval,
                         device=device, checkpoint_every=checkpoint_every, ner_heads=dict(ner_heads or {}),
                         progress=False)
    key, config = keyed_run(project, config, fresh)
    validate(processed, corpora, Path(config.output_dir) / "validation")

    uri = store.tracking_uri(project)
    with start_training_run(config, experiment, uri, root=project) as run:
        logger.info("MLflow run %s; run directory runs/%s", run.run_id, key)
        result = train_model(config, run.on_step, run.on_epoch)
        primary = run.finish(result)
        if result.test is None:
            raise RuntimeError(f"run {run.run_id} stopped before its first evaluated epoch: nothing to register")
        version = None
        if register_model:
            version = register(run.run_id, result.model_dir, primary, model_name, uri,
                               version_tags(config, project, {"mtclin.run_key": key}))
    header = f"Registered version: {version} (alias candidate); selection {selection}" if version else ""
    create_markdown_artifact(key="train-multitask-metrics", markdown=metrics_markdown(result.test, header),
                             description="Per-task test metrics of the selected model")
    return {"run_id": run.run_id, "version": version, "score": result.test["score"], "run_dir": config.output_dir,
            "resumed_from_step": result.resumed_from_step, "steps": result.steps, "best_epoch": result.best_epoch,
            "metrics": {t: {k: v for k, v in m.items() if isinstance(v, float)}
                        for t, m in result.test["metrics"].items()}}


if __name__ == "__main__":
    train_multitask()
