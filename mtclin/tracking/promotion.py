"""The promotion gate: alias ``production`` moves to a candidate version only if no task got worse.

Each version carries its best primary metric per task as tags (``metric.<task>.<metric>``, see registry). A
candidate is accepted when, for every task the current production version scores, the candidate's value is at
least production's minus ``tolerance`` (absolute). A task production has and the candidate lacks refuses the
candidate (it would stop serving that task); a task only the candidate has is reported and accepted. Scores are
compared only where both were measured the same way: on the same processed data (version tags
``mtclin.data.<task>``, the DVC hashes of the split tables) and under the same model selection (``mtclin.selection``);
otherwise the candidate is refused with the reason and how to re-score production on the candidate's data. With no
production version yet, the candidate is promoted. The decision is written onto the candidate's version tags:
``promotion.decision`` (accepted | refused), ``promotion.delta.<task>`` (candidate - production),
``promotion.compared_to`` (version or "none"), ``promotion.tolerance``, ``promotion.regressed``, ``promotion.time``.
The version production pointed at before gets alias ``previous_production`` (a one-line rollback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mtclin.tracking import store
from mtclin.tracking.registry import CANDIDATE, PRODUCTION, resolve_version, version_metrics
from mtclin.tracking.runs import DATA_TAG, SELECTION_TAG

PREVIOUS = "previous_production"


@dataclass(frozen=True)
class PromotionDecision:
    model_name: str
    version: str
    compared_to: str | None  # the production version compared against; None when there was none
    accepted: bool
    deltas: dict[str, float] = field(default_factory=dict)  # task -> candidate - production (primary metric)
    regressed: dict[str, float] = field(default_factory=dict)  # tasks whose delta < -tolerance
    missing_in_candidate: tuple[str, ...] = ()  # tasks production serves that the candidate does not
    new_tasks: tuple[str, ...] = ()  # tasks only the candidate has
    tolerance: float = 0.01
    incomparable: dict[str, str] = field(default_factory=dict)  # task -> why its scores can't be compared

    def _how_to_rescore(self) -> str:
        return (f"re-score {PRODUCTION} on the candidate's data (`prefect deployment run evaluate-model/local "
                f"--params '{{\"model\": \"models:/{self.model_name}@{PRODUCTION}\", \"record_on_version\": true}}'` "
                f"after `dvc repro`), or train both on the same `dvc repro` output")
    def summary(self) -> str:
        head = f"{self.model_name} version {self.version}"
        if self.compared_to is None:
            return f"{head}: promoted to {PRODUCTION} (there was no {PRODUCTION} version)"
        parts = [f"{t} {d:+.4f}" for t, d in sorted(self.regressed.items())]
        parts += [f"{t} missing" for t in self.missing_in_candidate]
        verdict = "promoted" if self.accepted else "refused"
        detail = f"; regressions beyond {self.tolerance}: {', '.join(parts)}" if parts else ""
        if self.incomparable:
            why = "; ".join(f"{t}: {reason}" for t, reason in sorted(self.incomparable.items()))
            detail += f"; not comparable ({why}): {self._how_to_rescore()}"
        return f"{head} vs {PRODUCTION} version {self.compared_to}: {verdict}{detail}"


class PromotionRefused(RuntimeError):
    def __init__(self, decision: PromotionDecision):
        super().__init__(decision.summary() + f". {PRODUCTION} stays on version {decision.compared_to}; "
                         f"retrain, or promote with a larger tolerance if these drops are acceptable")
        self.decision = decision


def _production(client: Any, name: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, PRODUCTION)
    except MlflowException as err:
        # MLflow 3 answers INVALID_PARAMETER_VALUE "alias ... not found" for a missing alias
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE") and "not found" in str(err):
            return None
        raise


def decide(name: str, candidate: Any, production: Any | None, tolerance: float) -> PromotionDecision:
    """The gate's verdict for two ModelVersions (pure: reads their tags only)."""
    if not version_metrics(candidate.tags):
        raise ValueError(f"{name} version {candidate.version} has no metric.<task>.<metric> tags, so the gate has "
                         "nothing to compare; register models with mtclin.tracking.registry.log_and_register")
    if production is None:
        return PromotionDecision(name, str(candidate.version), None, True, tolerance=tolerance)
    new, old = version_metrics(candidate.tags), version_metrics(production.tags)
    deltas, regressed = {}, {}
    incomparable = comparability(candidate.tags, production.tags, sorted(set(new) & set(old)))
    for task in sorted(set(new) & set(old)):
        (metric_new, value_new), (metric_old, value_old) = new[task], old[task]
        if metric_new != metric_old:
            raise ValueError(f"{name}: task {task} is scored by {metric_new} in version {candidate.version} but by "
                             f"{metric_old} in version {production.version}; fix the metric.{task}.* tags")
        deltas[task] = value_new - value_old
        if deltas[task] < -tolerance - 1e-12:  # a drop of exactly `tolerance` passes despite float rounding
            regressed[task] = deltas[task]
    missing = tuple(sorted(set(old) - set(new)))
    accepted = not regressed and not missing and not incomparable
    return PromotionDecision(name, str(candidate.version), str(production.version), accepted, deltas, regressed,
                             missing, tuple(sorted(set(new) - set(old))), tolerance, incomparable)


def comparability(candidate: dict[str, str], production: dict[str, str], tasks: list[str]) -> dict[str, str]:
    """Per shared task, why the two versions' scores cannot be compared (absent: they can): scored on other
    processed data, data not recorded, or models selected another way."""
    out = {}
    selections = candidate.get(SELECTION_TAG, "dev"), production.get(SELECTION_TAG, "dev")
    for task in tasks:
        ours, theirs = candidate.get(f"{DATA_TAG}{task}"), production.get(f"{DATA_TAG}{task}")
        if ours is None or theirs is None:
            out[task] = "processed-data version not recorded on " + ("both versions" if ours == theirs else
                                                                     "the candidate" if ours is None else PRODUCTION)
        elif ours != theirs:
            out[task] = f"scored on other processed data ({ours[:8]}… vs {theirs[:8]}…)"
        elif selections[0] != selections[1]:
            out[task] = f"selection {selections[0]} vs {selections[1]}"
    return out


def record(client: Any, decision: PromotionDecision) -> None:
    tags = {
        "promotion.decision": "accepted" if decision.accepted else "refused",
        "promotion.compared_to": decision.compared_to or "none",
        "promotion.tolerance": repr(decision.tolerance),
        "promotion.regressed": ",".join(sorted(decision.regressed) + list(decision.missing_in_candidate)),
        "promotion.incomparable": ",".join(sorted(decision.incomparable)),
        "promotion.time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    tags |= {f"promotion.delta.{task}": f"{delta:+.6f}" for task, delta in decision.deltas.items()}
    if decision.new_tasks:
        tags["promotion.new_tasks"] = ",".join(decision.new_tasks)
    for key, value in tags.items():
        client.set_model_version_tag(decision.model_name, decision.version, key, value)


def promote(model_name: str = store.DEFAULT_MODEL_NAME, version_or_alias: str | int = CANDIDATE,
            tolerance: float = 0.01, client: Any = None) -> PromotionDecision:
    """Gate ``version_or_alias`` of ``model_name`` against the current ``production`` version and, if accepted,
    move ``production`` to it. The decision is recorded on the version's tags either way. Raises
    :class:`PromotionRefused` (production unchanged) when a task regressed by more than ``tolerance`` or is
    missing from the candidate."""
    client = client or store.client()
    candidate = resolve_version(client, model_name, version_or_alias)
    production = _production(client, model_name)
    decision = decide(model_name, candidate, production, tolerance)
    record(client, decision)
    if not decision.accepted:
        raise PromotionRefused(decision)
    if decision.compared_to not in (None, decision.version):
        client.set_registered_model_alias(model_name, PREVIOUS, decision.compared_to)
    client.set_registered_model_alias(model_name, PRODUCTION, decision.version)
    return decision
