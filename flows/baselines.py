"""Flow `train-baselines`: single-task fine-tuning per corpus x seed (the paper's "optimized single-task"),
the multitask schedules to compare with, all grouped under one parent MLflow run; then the paper's Table 2."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.train_multitask import preprocess, validate
from mtclin.corpora.registry import CORPORA
from mtclin.train.config import TrainConfig


@task(name="train-one", cache_policy=NO_CACHE, task_run_name="train-{label}")
def train_one(config: TrainConfig, label: str, parent: str, experiment: str, uri: str, project: Path) -> str:
    from mtclin.tracking.runs import track_training

    tracked = track_training(config, experiment, uri, parent=parent, root=project)
    return tracked.run_id


@task(name="compare", cache_policy=NO_CACHE)
def compare(parent: str, uri: str) -> str:
    from mtclin.tracking.compare import log_table2, markdown, search_training_runs

    rows = log_table2(parent, search_training_runs(uri=uri, parent=parent), uri)
    return markdown(rows)


@flow(name="train-baselines")
def train_baselines(
    corpora: list[str] = list(CORPORA),
    seeds: list[int] = [0, 1, 2, 3, 4],
    multitask_schedules: list[str] = ["round_robin", "loss_sum"],
    encoder: str = "minilm",
    epochs: int = 3,
    learning_rate: float = 5e-5,
    max_length: int = 128,
    limit_train: int = 0,
    limit_eval: int = 0,
    device: str = "auto",
    project_dir: str = ".",
    experiment: str = "mt-clinical-bert",
) -> dict[str, Any]:
    """One single-task run per corpus and seed (paper: 5 seeds, best reported), one multitask run per schedule
    (seed = the first seed), all children of one parent run that gets the Table 2 artifacts."""
    from mtclin.run_dirs import processed_versions, run_key
    from mtclin.tracking import store
    from mtclin.tracking.runs import start_parent_run

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    preprocess(project, corpora)
    processed = project / "processed"
    validate(processed, corpora, project / "runs" / "baselines-validation")
    base = TrainConfig(corpora=tuple(corpora), processed_dir=str(processed), encoder=encoder, epochs=epochs,
                       learning_rate=learning_rate, max_length=max_length, limit_train=limit_train,
                       limit_eval=limit_eval, device=device, seed=seeds[0], progress=False)
    configs = [(f"{corpus}-seed{seed}", replace(base, corpora=(corpus,), seed=seed))
               for corpus in corpora for seed in seeds]
    configs += [(f"{schedule}-seed{seeds[0]}", replace(base, schedule=schedule)) for schedule in multitask_schedules]
    versions = processed_versions(project, corpora)
    uri = store.tracking_uri(project)
    with start_parent_run("baselines", experiment, uri, {"mtclin.kind": "baselines"}, project) as parent:
        for label, config in configs:
            key = run_key(config.to_dict(), {c: versions[c] for c in config.corpora})
            train_one(replace(config, output_dir=str(project / "runs" / key)), label, parent, experiment, uri,
                      project)
        table = compare(parent, uri)
    logger.info("Table 2 logged to MLflow run %s (table2/)", parent)
    create_markdown_artifact(key="table2", markdown=table, description="Multitask vs best single-task")
    return {"parent_run_id": parent, "runs": len(configs)}
