"""An evaluation of an existing model as an MLflow run, linked both ways with the model version it scored.

Run tags: ``mtclin.kind`` = evaluation, ``mtclin.model`` (the reference given), ``mtclin.model_name`` /
``mtclin.model_version`` for a registered model, ``mtclin.eval.split``, ``mtclin.eval.source`` (processed | release),
and per corpus the processed data's DVC hashes where scored on the project's processed data. Metrics:
``eval/<task>/<metric>`` (per type for NER). The version gets ``mtclin.evaluation.<task>.<split>`` = the run id;
with ``record``, its ``metric.<task>.<metric>`` and ``mtclin.data.<task>`` tags are replaced by these scores, so
the promotion gate compares it with candidates scored on the same data.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Mapping

from mtclin.tracking import store
from mtclin.tracking.fetch import ModelRef
from mtclin.tracking.registry import METRIC_TAG, metric_tags
from mtclin.tracking.runs import DATA_TAG, log_metrics, primary_of, task_metrics


def log_evaluation(model: ModelRef, reference: str, metrics: Mapping[str, Mapping[str, Any]], split: str,
                   source: str, data_versions: Mapping[str, str] | None = None, record: bool = False,
                   experiment: str = store.DEFAULT_EXPERIMENT, uri: str | None = None) -> str:
    """Log one evaluation run of ``model`` (``metrics``: ``{task: metrics}``); returns its run id."""
    uri = uri or store.tracking_uri()
    client = store.client(uri)
    tags = {"mtclin.kind": "evaluation", "mtclin.model": reference, "mtclin.eval.split": split,
            "mtclin.eval.source": source, "mtclin.eval.tasks": ",".join(metrics)}
    if model.name:
        tags |= {"mtclin.model_name": model.name, "mtclin.model_version": str(model.version)}
    data = {f"{DATA_TAG}{task}": v for task, v in (data_versions or {}).items() if v}
    run = client.create_run(store.ensure_experiment(experiment, uri), run_name=f"evaluate-{split}",
                            tags=tags | data)
    run_id = run.info.run_id
    try:
        values = {f"eval/{k}": v for task, m in metrics.items() for k, v in task_metrics(task, m).items()}
        log_metrics(client, run_id, values, 0)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "evaluation.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n")
            client.log_artifact(run_id, str(Path(tmp) / "evaluation.json"))
        if model.name:
            for task in metrics:
                client.set_model_version_tag(model.name, model.version, f"mtclin.evaluation.{task}.{split}", run_id)
            if record:
                record_on_version(client, model.name, str(model.version), metrics, data, run_id)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def record_on_version(client: Any, name: str, version: str, metrics: Mapping[str, Mapping[str, Any]],
                      data_tags: Mapping[str, str], run_id: str) -> None:
    """Replace the version's gate scores (``metric.*``) and data versions of these tasks by a new evaluation."""
    current = client.get_model_version(name, version).tags
    for key in current:
        task = key[len(METRIC_TAG):].rpartition(".")[0] if key.startswith(METRIC_TAG) else None
        if task in metrics:
            client.delete_model_version_tag(name, version, key)
    for key, value in (metric_tags(primary_of(metrics)) | dict(data_tags)).items():
        client.set_model_version_tag(name, version, key, value)
    client.set_model_version_tag(name, version, "mtclin.rescored_by", run_id)
