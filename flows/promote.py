"""Flow `promote-model`: move alias `production` to a registered version only through the quality gate.

A refusal is a failed flow run with the regressed tasks in its message; the decision and per-task deltas are
recorded as tags on the model version either way."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE


def decision_markdown(decision) -> str:
    lines = [decision.summary(), "", "| task | delta vs production |", "|---|---|"]
    lines += [f"| {task} | {delta:+.4f} |" for task, delta in sorted(decision.deltas.items())]
    return "\n".join(lines)


@task(name="quality-gate", cache_policy=NO_CACHE)
def gate(model_name: str, version: str, tolerance: float, project_dir: str):
    from pathlib import Path

    from mtclin.tracking import store
    from mtclin.tracking.promotion import PromotionRefused, promote

    client = store.client(store.tracking_uri(Path(project_dir).resolve()))
    try:
        decision = promote(model_name, version, tolerance, client=client)
    except PromotionRefused as refused:
        create_markdown_artifact(key="promotion", markdown=decision_markdown(refused.decision),
                                 description="Promotion refused")
        raise
    create_markdown_artifact(key="promotion", markdown=decision_markdown(decision), description="Promotion")
    return decision


@flow(name="promote-model")
def promote_model(model_name: str = "mt-clinical-bert", version: str = "candidate", tolerance: float = 0.01,
                  project_dir: str = ".") -> dict[str, Any]:
    """Promote ``version`` (a number or an alias, default `candidate`) of ``model_name`` to `production` if no
    task's primary metric is worse than production's by more than ``tolerance`` (absolute)."""
    decision = gate(model_name, version, tolerance, project_dir)
    get_run_logger().info(decision.summary())
    return {"version": decision.version, "accepted": decision.accepted, "deltas": decision.deltas}
