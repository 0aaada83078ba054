"""Flow `train-baselines`: single-task fine-tuning per corpus x seed (the paper's "optimized single-task"),
the multitask schedules to compare with (each with its own seeds), all grouped under one parent MLflow run; then
the paper's Table 2 (test metrics of the selected models, mean ± sd over seeds, labelled with the selection)."""

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


def _span_settings(base: TrainConfig, corpus: str) -> dict[str, dict]:
    """A single-task run's NER head settings: its own corpus's only, so a run of another corpus keeps the run key
    (and the checkpoints) it has without them."""
    return {"ner_heads": {k: v for k, v in base.ner_heads.items() if k == corpus},
            "max_span_widths": {k: v for k, v in base.max_span_widths.items() if k == corpus}}


@flow(name="train-baselines")
def train_baselines(
    corpora: list[str] = list(CORPORA),
    seeds: list[int] = [0, 1, 2, 3, 4],
    multitask_schedules: list[str] = ["round_robin", "loss_sum"],
    multitask_seeds: dict[str, list[int]] = {},
    encoder: str = "minilm",
    epochs: int = 3,
    selection: str = "dev",
    patience: int = 2,
    learning_rate: float = 5e-5,
    max_length: int = 128,
    limit_train: int = 0,
    limit_eval: int = 0,
    device: str = "auto",
    ner_heads: dict[str, str] | None = None,
    max_span_widths: dict[str, int] | None = None,
    project_dir: str = ".",
    experiment: str = "mt-clinical-bert",
) -> dict[str, Any]:
    """One single-task run per corpus and seed (paper: 5 seeds), one multitask run per schedule and seed in
    ``multitask_seeds[schedule]`` (default: the first seed), all children of one parent run that gets Table 2.
    ``selection`` dev: every run stops early on dev (``patience``, at most ``epochs``) and is scored on test once;
    ``paper``: train+dev, best epoch on test (labelled so in MLflow and in the table). Each run resumes from its
    own checkpoints, so a grid stopped half-way picks up where it was. ``ner_heads`` / ``max_span_widths``: per NER
corpus, bio | span and the span head's widest span (as in train-multitask), in every run that trains it."""
    from mtclin.run_dirs import keyed_run
    from mtclin.tracking import store
    from mtclin.tracking.runs import start_parent_run

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    preprocess(project, corpora)
    processed = project / "processed"
    validate(processed, corpora, project / "runs" / "baselines-validation")
    base = TrainConfig(corpora=tuple(corpora), processed_dir=str(processed), encoder=encoder, epochs=epochs,
                       selection=selection, patience=patience, learning_rate=learning_rate, max_length=max_length,
                       limit_train=limit_train, limit_eval=limit_eval, device=device, seed=seeds[0], progress=False,
                       ner_heads=dict(ner_heads or {}), max_span_widths=dict(max_span_widths or {}))
    configs = [(f"{corpus}-seed{seed}", replace(base, corpora=(corpus,), seed=seed, **_span_settings(base, corpus)))
               for corpus in corpora for seed in seeds]
    configs += [(f"{schedule}-seed{seed}", replace(base, schedule=schedule, seed=seed))
                for schedule in multitask_schedules for seed in multitask_seeds.get(schedule, seeds[:1])]
    uri = store.tracking_uri(project)
    tags = {"mtclin.kind": "baselines", "mtclin.selection": selection}
    with start_parent_run(f"baselines-{selection}", experiment, uri, tags, project) as parent:
        for label, config in configs:
            train_one(keyed_run(project, config)[1], label, parent, experiment, uri, project)
        table = compare(parent, uri)
    logger.info("Table 2 logged to MLflow run %s (table2/)", parent)
    create_markdown_artifact(key="table2", markdown=table, description="Multitask vs best single-task")
    return {"parent_run_id": parent, "runs": len(configs)}
