"""Flow `evaluate-model`: score an existing model (a directory or ``models:/NAME@ALIAS``) and log the evaluation as
an MLflow run linked to the model version.

Two sources: a raw release (``data_dir``: read through the corpus's reader, e.g. another hospital's annotations),
or, without ``data_dir``, the project's DVC-processed split of every task the model has (``record_on_version``
then re-scores the version on today's data for the promotion gate). Only paths, names and numbers reach Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.train_multitask import preprocess


@task(name="score", cache_policy=NO_CACHE)
def score(model_dir: Path, corpora: list[str], split: str, data_dir: str | None, task_name: str | None,
          processed: Path, device: str) -> dict[str, Any]:
    from mtclin.evaluate.release import evaluate_release
    from mtclin.evaluate.saved import evaluate_saved_model
    from mtclin.model.io import resolve_device

    device = str(resolve_device(device))
    if data_dir is not None:
        (corpus,) = corpora
        return evaluate_release(model_dir, corpus, Path(data_dir), split, task_name, device=device)
    return evaluate_saved_model(model_dir, processed, corpora, device=device, split=split)


@flow(name="evaluate-model")
def evaluate_model(model: str = "models:/mt-clinical-bert@production", corpus: str | None = None,
                   data_dir: str | None = None, split: str = "test", task_name: str | None = None,
                   record_on_version: bool = False, device: str = "auto", project_dir: str = ".",
                   experiment: str = "mt-clinical-bert") -> dict[str, Any]:
    """Evaluate ``model`` on ``split``: of the ``corpus`` release under ``data_dir`` (its head ``task_name``,
    default the corpus's), or of the project's processed data of ``corpus`` (default: every task of the model)."""
    from mtclin.evaluate.report import metrics_markdown, scalar_metrics
    from mtclin.model.io import load_meta
    from mtclin.run_dirs import processed_versions
    from mtclin.tracking import store
    from mtclin.tracking.evaluation import log_evaluation
    from mtclin.tracking.fetch import local_model

    if data_dir is not None and corpus is None:
        raise ValueError("data_dir needs corpus: which reader reads the release")
    if record_on_version and data_dir is not None:
        raise ValueError("record_on_version re-scores on the project's processed data: leave data_dir unset")
    logger = get_run_logger()
    project = Path(project_dir).resolve()
    uri = store.tracking_uri(project)
    with local_model(model, uri) as ref:
        corpora = [corpus] if corpus else [t.name for t in load_meta(ref.path).tasks]
        versions = None
        if data_dir is None:
            preprocess(project, corpora)
            versions = processed_versions(project, corpora)
        result = score(ref.path, corpora, split, data_dir, task_name, project / "processed", device)
    run_id = log_evaluation(ref, model, result["metrics"], split, "release" if data_dir else "processed", versions,
                            record_on_version, experiment, uri)
    logger.info("evaluated %s on %s (%s): MLflow run %s", model, ", ".join(corpora), split, run_id)
    create_markdown_artifact(key="evaluate-model", markdown=metrics_markdown(result, f"{model}, split {split}"),
                             description="Evaluation of an existing model")
    return {"run_id": run_id, "model_version": ref.version, "score": result["score"],
            "metrics": scalar_metrics(result["metrics"])}
