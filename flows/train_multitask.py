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

from mtclin.flow_params import config_parameters
from mtclin.train.config import TrainConfig, setting_choices


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
def train_model(config: TrainConfig, on_step, on_epoch, init_dir: Path | None = None):
    """Train, selecting the epoch on the selection split; the selected model is scored on test once. ``init_dir``:
    ``config.init`` fetched to a local directory."""
    from mtclin.train.loop import train

    logger = get_run_logger()
    # the loop's log gets the progress lines and one line per evaluated epoch
    result = train(config, on_step=on_step, on_epoch=on_epoch, log=logger.info, init_dir=init_dir)
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


# set by the flow itself: where the data and the run directory are; no progress bar in a flow log
FLOW_SET = ("processed_dir", "output_dir", "progress")


@flow(name="train-multitask")
@config_parameters(TrainConfig, exclude=FLOW_SET, choices=setting_choices(),
                   defaults={"checkpoint_every": 200})  # a flow run is resumed after a crash: lose <= 200 steps
def train_multitask(project_dir: str = ".", experiment: str = "mt-clinical-bert", model_name: str = "mt-clinical-bert",
                    register_model: bool = True, fresh: bool = False, **settings: Any) -> dict[str, Any]:
    """Train the multitask model on the chosen corpora and register it as a `candidate` version.

    ``selection``: ``dev`` (the best epoch on dev, at most ``epochs``, stopping after ``patience`` epochs without
    improvement; test scored once for it) or ``paper`` (the paper's protocol: train+dev, best epoch on test). A
    re-run with the same parameters and data resumes from its checkpoints (after a crash) instead of starting
    over. Every other parameter is a training setting (``mtclin.train.config.TrainConfig``).

    Args:
        project_dir: the project (DVC repo, params.yaml, MLflow store); processed data and runs/ go there
        experiment: the MLflow experiment of the run
        model_name: the registered model a new version is added to (alias candidate)
        register_model: register the selected model (false: only track the run)
        fresh: a new run directory even when one for the same settings and data exists
    """
    from mtclin.evaluate.report import metrics_markdown, scalar_metrics
    from mtclin.run_dirs import keyed_run
    from mtclin.tracking import store
    from mtclin.tracking.fetch import fetched_init
    from mtclin.tracking.runs import start_training_run, version_tags

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    config = TrainConfig.from_dict(settings | {"processed_dir": str(project / "processed"), "progress": False})
    corpora = list(config.corpora)
    preprocess(project, corpora)
    uri = store.tracking_uri(project)
    with fetched_init(config, uri) as (config, init_dir):
        key, config = keyed_run(project, config, fresh)
        validate(Path(config.processed_dir), corpora, Path(config.output_dir) / "validation")
        with start_training_run(config, experiment, uri, root=project) as run:
            logger.info("MLflow run %s; run directory runs/%s", run.run_id, key)
            result = train_model(config, run.on_step, run.on_epoch, init_dir)
            primary = run.finish(result)
            if result.test is None:
                raise RuntimeError(f"run {run.run_id} stopped before its first evaluated epoch: nothing to register")
            version = None
            if register_model:
                version = register(run.run_id, result.model_dir, primary, model_name, uri,
                                   version_tags(config, project, {"mtclin.run_key": key}))
    header = f"Registered version: {version} (alias candidate); selection {config.selection}" if version else ""
    create_markdown_artifact(key="train-multitask-metrics", markdown=metrics_markdown(result.test, header),
                             description="Per-task test metrics of the selected model")
    return {"run_id": run.run_id, "version": version, "score": result.test["score"], "run_dir": config.output_dir,
            "resumed_from_step": result.resumed_from_step, "steps": result.steps, "best_epoch": result.best_epoch,
            "metrics": scalar_metrics(result.test["metrics"])}


if __name__ == "__main__":
    train_multitask()
