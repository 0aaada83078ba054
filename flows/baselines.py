"""Flow `train-baselines`: single-task fine-tuning per corpus x seed (the paper's "optimized single-task"),
the multitask schedules to compare with (each with its own seeds), all grouped under one parent MLflow run; then
the paper's Table 2 (test metrics of the selected models, mean ± sd over seeds, labelled with the selection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.train_multitask import FLOW_SET, preprocess, validate
from mtclin.flow_params import config_parameters
from mtclin.train.config import TrainConfig, setting_choices


@task(name="train-one", cache_policy=NO_CACHE, task_run_name="train-{label}")
def train_one(config: TrainConfig, label: str, parent: str, experiment: str, uri: str, project: Path,
              init_dir: Path | None = None) -> str:
    from mtclin.tracking.runs import track_training

    logger = get_run_logger()
    tracked = track_training(config, experiment, uri, parent=parent, root=project, log=logger.info,
                             init_dir=init_dir)
    result = tracked.result
    logger.info("%s: %d steps%s, selected epoch %d, test score %.4f", label, result.steps,
                " (stopped early)" if result.stopped_early else "", result.best_epoch,
                result.test["score"] if result.test else float("nan"))
    return tracked.run_id


@task(name="compare", cache_policy=NO_CACHE)
def compare(parent: str, uri: str) -> str:
    from mtclin.tracking.compare import log_table2, markdown, search_training_runs

    runs = search_training_runs(uri=uri, parent=parent)
    rows = log_table2(parent, runs, uri)
    return markdown(rows, selection=runs[0].data.tags.get("mtclin.selection") if runs else None)


Schedule = Literal[setting_choices()["schedule"]]  # type: ignore[valid-type]  (the registry's names)


@flow(name="train-baselines")
@config_parameters(TrainConfig, exclude=FLOW_SET + ("seed", "schedule"),  # the grid's: seeds, multitask_schedules
                   choices=setting_choices())
def train_baselines(seeds: list[int] = [0, 1, 2, 3, 4],
                    multitask_schedules: list[Schedule] = ["round_robin", "loss_sum"],
                    multitask_seeds: dict[str, list[int]] = {}, project_dir: str = ".",
                    experiment: str = "mt-clinical-bert", **settings: Any) -> dict[str, Any]:
    """One single-task run per corpus and seed (paper: 5 seeds), one multitask run per schedule and seed in
    ``multitask_seeds[schedule]`` (default: the first seed), all children of one parent run that gets Table 2.
    ``selection`` dev: every run stops early on dev (``patience``, at most ``epochs``) and is scored on test once;
    ``paper``: train+dev, best epoch on test (labelled so in MLflow and in the table). Each run resumes from its
    own checkpoints, so a grid stopped half-way picks up where it was. Every other parameter is a training setting
    (``mtclin.train.config.TrainConfig``) of every run; a single-task run takes the per-task ones of its corpus.

    Args:
        seeds: the single-task runs' seeds, one run per corpus and seed (none: only the multitask runs)
        multitask_schedules: one multitask run (on every corpus) per schedule ...
        multitask_seeds: ... and per seed listed here for it (default: the first of seeds)
        project_dir: the project (DVC repo, params.yaml, MLflow store); processed data and runs/ go there
        experiment: the MLflow experiment of the parent run and its children
    """
    from mtclin.run_dirs import keyed_run
    from mtclin.tracking import store
    from mtclin.tracking.fetch import fetched_init
    from mtclin.tracking.runs import start_parent_run
    from mtclin.train.grids import baseline_grid

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    base = TrainConfig.from_dict(settings | {"processed_dir": str(project / "processed"), "progress": False,
                                             "seed": (seeds or [0])[0]})
    corpora = list(base.corpora)
    preprocess(project, corpora)
    validate(Path(base.processed_dir), corpora, project / "runs" / "baselines-validation")
    uri = store.tracking_uri(project)
    with fetched_init(base, uri) as (base, init_dir):
        configs = baseline_grid(base, seeds, multitask_schedules, multitask_seeds)
        tags = {"mtclin.kind": "baselines", "mtclin.selection": base.selection}
        with start_parent_run(f"baselines-{base.selection}", experiment, uri, tags, project) as parent:
            for label, config in configs:
                train_one(keyed_run(project, config)[1], label, parent, experiment, uri, project, init_dir)
            table = compare(parent, uri)
    logger.info("Table 2 logged to MLflow run %s (table2/)", parent)
    create_markdown_artifact(key="table2", markdown=table, description="Multitask vs best single-task")
    return {"parent_run_id": parent, "runs": len(configs)}
