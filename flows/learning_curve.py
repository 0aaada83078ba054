"""Flow `learning-curve`: is a trained (multitask) encoder a better start for a corpus with little data?

The corpus is trained on growing shares of its train split (seeded; whole documents for NER) x seeds, once from
the plain encoder and once from the encoder of ``init`` (a model directory or ``models:/NAME@ALIAS``, its heads
dropped), every run selected on dev and scored on test once; all runs are children of one MLflow run that gets the
curve (table + plot). Runs resume from their checkpoints, like the baselines grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.baselines import train_one
from flows.train_multitask import FLOW_SET, preprocess, validate
from mtclin.flow_params import config_parameters
from mtclin.train.config import TrainConfig, setting_choices


@task(name="curve", cache_policy=NO_CACHE)
def curve(parent: str, uri: str, corpus: str, init: str) -> str:
    from mtclin.tracking.compare import search_training_runs
    from mtclin.tracking.curves import log_curve, markdown

    points = log_curve(parent, search_training_runs(uri=uri, parent=parent), corpus, init, uri)
    return markdown(points, corpus, init)


@flow(name="learning-curve")
# corpora, init, train_fraction and seed are the curve's own (corpus, init, fractions, seeds); keep_heads: the
# curve compares encoders, so init's heads are always dropped
@config_parameters(TrainConfig, exclude=FLOW_SET + ("corpora", "init", "keep_heads", "train_fraction", "seed"),
                   defaults={"epochs": 8},  # small shares take many epochs; patience stops the large ones
                   choices=setting_choices())
def learning_curve(corpus: str, init: str = "models:/mt-clinical-bert@production",
                   fractions: list[float] = [0.05, 0.1, 0.25, 0.5, 1.0], seeds: list[int] = [0],
                   project_dir: str = ".", experiment: str = "mt-clinical-bert", **settings: Any) -> dict[str, Any]:
    """Train ``corpus`` on each share in ``fractions`` and each seed, from ``encoder`` and from ``init``. Every
    other parameter is a training setting (``mtclin.train.config.TrainConfig``) of every run.

    Args:
        corpus: the corpus the curve is of (one task)
        init: the trained model whose encoder the second half of the runs starts from (a model directory or
            models:/NAME@ALIAS, pinned to the version it points at when the flow starts)
        fractions: the shares of the train split (seeded; whole documents for NER)
        seeds: one run per share, start and seed
        project_dir: the project (DVC repo, params.yaml, MLflow store); processed data and runs/ go there
        experiment: the MLflow experiment of the parent run and its children
    """
    from mtclin.run_dirs import keyed_run
    from mtclin.tracking import store
    from mtclin.tracking.fetch import local_model
    from mtclin.tracking.runs import start_parent_run
    from mtclin.train.grids import curve_grid

    logger = get_run_logger()
    project = Path(project_dir).resolve()
    base = TrainConfig.from_dict(settings | {"corpora": [corpus], "processed_dir": str(project / "processed"),
                                             "progress": False})
    preprocess(project, [corpus])
    validate(Path(base.processed_dir), [corpus], project / "runs" / "learning-curve-validation")
    uri = store.tracking_uri(project)
    with local_model(init, uri) as ref:
        tags = {"mtclin.kind": "learning-curve", "mtclin.curve.corpus": corpus, "mtclin.init": ref.pinned}
        with start_parent_run(f"learning-curve-{corpus}", experiment, uri, tags, project) as parent:
            for label, config in curve_grid(base, fractions, seeds, ref.pinned):
                train_one(keyed_run(project, config)[1], label, parent, experiment, uri, project,
                          ref.path if config.init else None)
            table = curve(parent, uri, corpus, ref.pinned)
    logger.info("learning curve of %s logged to MLflow run %s (curve/)", corpus, parent)
    create_markdown_artifact(key="learning-curve", markdown=table, description=f"Learning curve of {corpus}")
    return {"parent_run_id": parent, "runs": 2 * len(fractions) * len(seeds), "init": ref.pinned}
