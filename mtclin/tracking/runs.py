"""One training run in MLflow: config as params, lineage and comparison tags, per-task metrics per epoch, losses per
step, the best epoch's metrics, figures, system metrics; optionally the model, registered as ``candidate``.

Metric names (step = epoch unless said otherwise). Per-epoch metrics are on the SELECTION split: dev by default,
test for ``selection: paper`` (param ``selection``, tag ``mtclin.selection``):
    <task>/<metric>                     NER: f1, precision, recall, tp, fp, fn, support, nested_recall,
                                        nested_support (span heads also: threshold, max_span_width,
                                        recall_ceiling); the PHI task (i2b2-2014) also deid_precision,
                                        deid_recall, deid_f1 (+ counts) of what de-identification replaces;
                                        entailment: accuracy, macro_f1; STS: pearson, spearman; assertion:
                                        f1, precision, recall, accuracy, macro_f1; relation: f1, precision,
                                        recall (on gold entities)
    <task>/per_type/<type>/<metric>     f1, precision, recall, support per entity type (NER), relation type
    <task>/per_class/<value>/<metric>   the same per assertion value
    <task>/end_to_end/<metric>          relation: on the entities the source NER task predicts (+ per_type)
    <task>/train_loss                   mean training loss of the epoch
    score                               mean of the tasks' primary metrics (selects the best epoch)
    <task>/loss                         mean training loss of the last N optimisation steps (step = global step)
    best/<task>/<metric>, best/score, best/epoch, best/step   the selected epoch's selection-split values, once
    test/<task>/<metric>, test/score    the selected model on test, scored once (what Table 2 and the registry use)
    retention/<task>/{before,after,delta}   started from a model with keep_heads: its carried tasks' test primary
    steps                               optimisation steps the run took (early stopping included)
No note text reaches MLflow: names are built from task, metric and label names only.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import mlflow
from mlflow.entities import Metric
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from mtclin.tasks import primary_metric_for
from mtclin.tracking import lineage, plots, store

SCHEDULE_TAG, CORPORA_TAG, SEED_TAG, PARENT_TAG = "mtclin.schedule", "mtclin.corpora", "mtclin.seed", "mtclin.parent"
SELECTION_TAG = "mtclin.selection"  # dev | paper: how the reported epoch was chosen
INIT_TAG, FRACTION_TAG = "mtclin.init", "mtclin.train_fraction"  # the model a run started from; its train share
DATA_TAG = "mtclin.data."  # model-version tag prefix: mtclin.data.<corpus> = its processed data's DVC hashes
SINGLE_TASK = "single_task"  # the schedule tag of a one-corpus run, whatever its config.schedule
_UNSAFE = re.compile(r"[^\w.\- :/]")  # characters MLflow refuses in metric names


def metric_key(*parts: str) -> str:
    return "/".join(_UNSAFE.sub("_", p) for p in parts)


def schedule_of(config: Any) -> str:
    return SINGLE_TASK if len(config.corpora) == 1 else config.schedule


def run_name(config: Any) -> str:
    """``round_robin-8tasks-seed0``; a single task: ``single_task-<corpus>-seed0``."""
    if len(config.corpora) == 1:
        return f"{SINGLE_TASK}-{config.corpora[0]}-seed{config.seed}"
    return f"{config.schedule}-{len(config.corpora)}tasks-seed{config.seed}"


def config_params(config: Any) -> dict[str, str]:
    """The resolved config as params: scalars as text, dicts and lists as JSON, cut to MLflow's length limit
    (the whole config is also logged as ``config.json``)."""
    out = {}
    for key, value in config.to_dict().items():
        text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list, tuple)) else str(value)
        if len(text) > MAX_PARAM_VAL_LENGTH:
            marker = "...(cut; see config.json)"
            text = text[:MAX_PARAM_VAL_LENGTH - len(marker)] + marker
        out[key] = text
    return out


def run_tags(config: Any, parent: str | None = None) -> dict[str, str]:
    tags = {SCHEDULE_TAG: schedule_of(config), CORPORA_TAG: ",".join(config.corpora), SEED_TAG: str(config.seed),
            SELECTION_TAG: config.selection, FRACTION_TAG: repr(float(config.train_fraction))}
    if config.init:
        tags[INIT_TAG] = config.init
    if parent:
        tags[PARENT_TAG] = parent
        tags["mlflow.parentRunId"] = parent  # nests the run under its parent in the MLflow UI
    return tags


def version_tags(config: Any, root: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags for the model version a run registers: its run tags and, per corpus, the DVC hashes of the processed
    data it was scored on (the promotion gate only compares versions scored on the same data)."""
    from mtclin.run_dirs import processed_versions

    data = {f"{DATA_TAG}{c}": v for c, v in processed_versions(root, config.corpora).items() if v}
    return run_tags(config) | data | dict(extra or {})


def task_metrics(task: str, metrics: Mapping[str, Any]) -> dict[str, float]:
    """One task's evaluation dict as flat metric names (lists such as the confusion matrix are left out)."""
    out = {}
    for name, value in metrics.items():
        if name in ("per_type", "per_class"):  # per entity / relation type; per assertion value
            for etype, scores in value.items():
                out.update({metric_key(task, name, etype, m): float(scores[m])
                            for m in ("f1", "precision", "recall", "support") if m in scores})
        elif name == "end_to_end":  # relations between the predicted entities, beside those on gold entities
            out.update(task_metrics(metric_key(task, name), value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[metric_key(task, name)] = float(value)
    return out


def epoch_metrics(entry: Mapping[str, Any]) -> dict[str, float]:
    """Every metric of one history entry: per task, training losses and the overall score."""
    out = {"score": float(entry["score"])}
    for task, metrics in entry["metrics"].items():
        out.update(task_metrics(task, metrics))
    for task, loss in entry.get("train_loss", {}).items():
        out[metric_key(task, "train_loss")] = float(loss)
    return out


def best_entry(history: Sequence[Mapping[str, Any]], best_epoch: int) -> Mapping[str, Any] | None:
    return next((h for h in history if h["epoch"] == best_epoch), None)


def primary_of(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, float]]:
    """``{task: (primary metric, value)}`` from ``{task: metrics}``."""
    out = {}
    for task, values in metrics.items():
        metric = primary_metric_for(task)
        out[task] = (metric, float(values[metric]))
    return out


def best_primary(history: Sequence[Mapping[str, Any]], best_epoch: int) -> dict[str, tuple[str, float]]:
    """``{task: (primary metric, value at the best epoch)}`` on the selection split."""
    entry = best_entry(history, best_epoch)
    return {} if entry is None else primary_of(entry["metrics"])


def log_metrics(client: Any, run_id: str, values: Mapping[str, float], step: int) -> None:
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, step) for k, v in values.items()]
    for i in range(0, len(metrics), 1000):  # MLflow's batch limit
        client.log_batch(run_id, metrics=metrics[i:i + 1000], synchronous=True)


def step_logger(run_id: str, every: int = 50, uri: str | None = None) -> Callable[[int, dict[str, float]], None]:
    """An ``on_step`` hook for :func:`mtclin.train.loop.train`: every ``every`` steps, logs ``<task>/loss`` = the
    mean loss of that task over the steps since the last log (step = global step)."""
    client = store.client(uri)
    every = max(1, every)
    sums: dict[str, list[float]] = {}

    def on_step(step: int, losses: dict[str, float]) -> None:
        for task, loss in losses.items():
            acc = sums.setdefault(task, [0.0, 0])
            acc[0], acc[1] = acc[0] + loss, acc[1] + 1
        if step % every == 0 and sums:
            log_metrics(client, run_id, {metric_key(t, "loss"): s / n for t, (s, n) in sums.items() if n}, step)
            sums.clear()

    return on_step


class TrainingRun:
    """The MLflow side of one training run. Pass ``on_step`` / ``on_epoch`` to ``train``; call ``finish``
    with its result."""

    def __init__(self, run_id: str, config: Any, uri: str, log_every: int = 50):
        self.run_id, self.config, self.uri = run_id, config, uri
        self.client = store.client(uri)
        self.on_step = step_logger(run_id, log_every, uri)
        self._live_epochs: set[int] = set()

    def on_epoch(self, epoch: int, metrics: dict[str, dict[str, Any]]) -> None:
        """Per-task test metrics as soon as an epoch is evaluated (step = epoch)."""
        values = {}
        for task, m in metrics.items():
            values.update(task_metrics(task, m))
        log_metrics(self.client, self.run_id, values, epoch)
        self._live_epochs.add(epoch)

    def finish(self, result: Any) -> dict[str, tuple[str, float]]:
        """Log what the history holds and the hooks did not (score, train losses, epochs before a resume), the
        selected epoch's metrics, the test metrics of the selected model, figures, config.json and history.json.
        Returns the test primary metric per task ({} when no epoch was evaluated)."""
        for entry in result.history:
            values = epoch_metrics(entry)
            if entry["epoch"] in self._live_epochs:
                values = {k: v for k, v in values.items() if k == "score" or k.endswith("/train_loss")}
            log_metrics(self.client, self.run_id, values, entry["epoch"])
        best = best_entry(result.history, result.best_epoch)
        tags = {"mtclin.finished": str(result.finished).lower(), "mtclin.best_epoch": str(result.best_epoch),
                "mtclin.stopped_early": str(result.stopped_early).lower()}
        for key, value in tags.items():
            self.client.set_tag(self.run_id, key, value)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
            (Path(tmp) / "history.json").write_text(json.dumps(result.history, indent=2) + "\n")
            self.client.log_artifact(self.run_id, str(Path(tmp) / "config.json"))
            self.client.log_artifact(self.run_id, str(Path(tmp) / "history.json"), "metrics")
            if best is None:
                return {}
            primary = best_primary(result.history, result.best_epoch)
            written = plots.write_run_plots(result.history, result.best_epoch,
                                            {t: m for t, (m, _) in primary.items()}, Path(tmp) / "plots")
            if result.test is not None:
                (Path(tmp) / "test.json").write_text(json.dumps(result.test, indent=2) + "\n")
                self.client.log_artifact(self.run_id, str(Path(tmp) / "test.json"), "metrics")
            if written:
                self.client.log_artifacts(self.run_id, str(Path(tmp) / "plots"), "plots")
        values = {f"best/{k}": v for k, v in epoch_metrics(best).items() if not k.endswith("/train_loss")}
        values |= {"best/epoch": float(result.best_epoch), "best/step": float(best.get("step", 0)),
                   "steps": float(result.steps), "train_seconds": float(result.train_seconds)}
        if result.test is not None:
            values["test/score"] = float(result.test["score"])
            for task, kept in result.test.get("retention", {}).items():  # carried tasks, before/after
                values |= {f"retention/{task}/{k}": float(kept[k]) for k in ("before", "after", "delta")}
            for task, metrics in result.test["metrics"].items():
                values.update({f"test/{k}": v for k, v in task_metrics(task, metrics).items()})
        log_metrics(self.client, self.run_id, values, result.best_epoch)
        return primary_of(result.test["metrics"]) if result.test is not None else {}


@contextmanager
def start_training_run(config: Any, experiment: str = store.DEFAULT_EXPERIMENT, uri: str | None = None,
                       parent: str | None = None, log_every: int = 50, system_metrics: bool = True,
                       root: Path | None = None) -> Iterator[TrainingRun]:
    """Open an MLflow run for ``config`` (params, tags, lineage of ``root``'s git checkout and DVC files) and yield
    its :class:`TrainingRun`. The run ends FINISHED, or FAILED when the block raises."""
    uri = uri or store.tracking_uri(root)
    root = root or store.project_root()
    experiment_id = store.ensure_experiment(experiment, uri)
    tags = run_tags(config, parent) | lineage.lineage_tags(root, config.corpora, Path(config.processed_dir))
    with store.using(uri):
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name(config), tags=tags,
                              nested=mlflow.active_run() is not None, log_system_metrics=system_metrics) as run:
            mlflow.log_params(config_params(config))
            yield TrainingRun(run.info.run_id, config, uri, log_every)


@dataclass
class TrackedTraining:
    run_id: str
    result: Any  # mtclin.train.loop.TrainResult
    model_version: Any = None  # mlflow ModelVersion when registered


def track_training(config: Any, experiment: str = store.DEFAULT_EXPERIMENT, uri: str | None = None,
                   parent: str | None = None, register: bool = False, model_name: str = store.DEFAULT_MODEL_NAME,
                   log_every: int = 50, system_metrics: bool = True, root: Path | None = None,
                   train_fn: Callable[..., Any] | None = None, log: Callable[[str], None] | None = None,
                   init_dir: Path | None = None) -> TrackedTraining:
    """Train ``config`` inside a logged run; with ``register``, log the selected model and register it as a
    new version of ``model_name`` with alias ``candidate`` (a failed registration fails the run). ``log``: where
    training's progress lines go (e.g. the Prefect run logger); ``init_dir``: ``config.init`` fetched locally."""
    from mtclin.tracking import registry

    if train_fn is None:
        from mtclin.train.loop import train as train_fn
    uri = uri or store.tracking_uri(root)
    with start_training_run(config, experiment, uri, parent, log_every, system_metrics, root) as run:
        result = train_fn(config, on_step=run.on_step, on_epoch=run.on_epoch, log=log, init_dir=init_dir)
        primary = run.finish(result)
        version = None
        if register:
            if not primary:
                raise registry.RegistrationError(f"run {run.run_id} evaluated no epoch (max_steps={config.max_steps}"
                                                 "?): there is no best model to register")
            tags = version_tags(config, root or store.project_root(), {"mtclin.run_name": run_name(config)})
            version = registry.log_and_register(run.run_id, result.model_dir, primary, model_name, uri, tags=tags)
        return TrackedTraining(run.run_id, result, version)


@contextmanager
def start_parent_run(name: str, experiment: str = store.DEFAULT_EXPERIMENT, uri: str | None = None,
                     tags: Mapping[str, str] | None = None, root: Path | None = None) -> Iterator[str]:
    """An MLflow run that groups other runs (pass its id as ``parent`` to :func:`track_training`); yields its id.
    Ends FINISHED, or FAILED when the block raises."""
    uri = uri or store.tracking_uri(root)
    experiment_id = store.ensure_experiment(experiment, uri)
    client = store.client(uri)
    run = client.create_run(experiment_id, run_name=name, tags=dict(tags or {}))
    try:
        yield run.info.run_id
    except BaseException:
        client.set_terminated(run.info.run_id, "FAILED")
        raise
    client.set_terminated(run.info.run_id, "FINISHED")
