from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtclin.tracking import store
from mtclin.tracking.promotion import PREVIOUS, PromotionRefused, decide, promote
from mtclin.tasks import primary_metric_for
from mtclin.tracking.registry import CANDIDATE, PRODUCTION, metric_tags



class Registry:
    """One registered model of a real registry; versions are created straight from metric tags (the gate reads
    nothing else) and become the candidate."""

    def __init__(self, client: Any, name: str, tmp: Path):
        self.client, self.name, self.tmp = client, name, tmp
        client.create_registered_model(name)

    def add(self, scores: dict[str, float], data: str | None = "md5-a", selection: str = "dev") -> str:
        """A version scored on processed data ``data`` (None: not recorded) under ``selection``."""
        values = {task: (primary_metric_for(task), value) for task, value in scores.items()}
        tags = metric_tags(values) | {"mtclin.selection": selection}
        if data is not None:
            tags |= {f"mtclin.data.{task}": data for task in scores}
        version = self.client.create_model_version(self.name, str(self.tmp), tags=tags)
        self.client.set_registered_model_alias(self.name, CANDIDATE, version.version)
        return str(version.version)

    def alias(self, alias: str) -> str:
        return str(self.client.get_model_version_by_alias(self.name, alias).version)

    def tags(self, version: str) -> dict[str, str]:
        return self.client.get_model_version(self.name, version).tags


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real registry in tmp, shared by the module (creating the SQLite schema takes seconds)."""
    return store.client(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}")


@pytest.fixture
def reg(client: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    return Registry(client, request.node.name.replace("_", "-"), tmp_path)


def test_first_candidate_is_promoted(reg: Registry) -> None:
    v1 = reg.add({"i2b2-2010": 0.80, "medrqe": 0.70, "n2c2-2019": 0.85})
    decision = promote(reg.name, client=reg.client)
    assert decision.accepted and decision.compared_to is None and decision.version == v1
    assert reg.alias(PRODUCTION) == v1
    tags = reg.tags(v1)
    assert tags["promotion.decision"] == "accepted" and tags["promotion.compared_to"] == "none"
    assert "promotion.time" in tags


def test_regressed_candidate_is_refused_and_production_stays(reg: Registry) -> None:
    v1 = reg.add({"i2b2-2010": 0.80, "medrqe": 0.70, "n2c2-2019": 0.85})
    promote(reg.name, client=reg.client)
    v2 = reg.add({"i2b2-2010": 0.85, "medrqe": 0.65, "n2c2-2019": 0.845})
    with pytest.raises(PromotionRefused, match=r"version 2 vs production version 1: refused; regressions beyond "
                                               r"0\.01: medrqe -0\.0500.*production stays on version 1") as refused:
        promote(reg.name, client=reg.client)
    decision = refused.value.decision
    assert not decision.accepted and set(decision.regressed) == {"medrqe"}
    assert decision.deltas == pytest.approx({"i2b2-2010": 0.05, "medrqe": -0.05, "n2c2-2019": -0.005})
    assert reg.alias(PRODUCTION) == v1 and reg.alias(CANDIDATE) == v2
    tags = reg.tags(v2)
    assert tags["promotion.decision"] == "refused" and tags["promotion.compared_to"] == v1
    assert tags["promotion.delta.medrqe"] == "-0.050000" and tags["promotion.delta.i2b2-2010"] == "+0.050000"
    assert tags["promotion.regressed"] == "medrqe" and tags["promotion.tolerance"] == "0.01"


def test_better_candidate_is_promoted_and_the_old_one_kept_for_rollback(reg: Registry) -> None:
    v1 = reg.add({"i2b2-2010": 0.80, "medrqe": 0.70})
    promote(reg.name, client=reg.client)
    v2 = reg.add({"i2b2-2010": 0.79, "medrqe": 0.75})  # exactly -tolerance still passes
    decision = promote(reg.name, "candidate", tolerance=0.01, client=reg.client)
    assert decision.accepted and decision.compared_to == v1
    assert reg.alias(PRODUCTION) == v2 and reg.alias(PREVIOUS) == v1
    assert reg.tags(v2)["promotion.decision"] == "accepted"


def test_a_task_the_candidate_dropped_refuses_it(reg: Registry) -> None:
    reg.add({"i2b2-2010": 0.80, "medrqe": 0.70})
    promote(reg.name, client=reg.client)
    reg.add({"i2b2-2010": 0.90, "n2c2-2019": 0.8})
    with pytest.raises(PromotionRefused, match="medrqe missing") as refused:
        promote(reg.name, client=reg.client)
    assert refused.value.decision.missing_in_candidate == ("medrqe",)
    assert refused.value.decision.new_tasks == ("n2c2-2019",)


def test_promote_by_version_number(reg: Registry) -> None:
    v1 = reg.add({"medrqe": 0.70})
    reg.add({"medrqe": 0.10})
    assert promote(reg.name, v1, client=reg.client).accepted and reg.alias(PRODUCTION) == v1


def test_decide_refuses_mismatched_metrics(reg: Registry) -> None:
    reg.add({"medrqe": 0.70})
    candidate = reg.client.get_model_version(reg.name, "1")
    production = reg.client.create_model_version(reg.name, str(reg.tmp), tags={"metric.medrqe.macro_f1": "0.5"})
    with pytest.raises(ValueError, match="medrqe is scored by accuracy in version 1 but by macro_f1"):
        decide(reg.name, candidate, production, 0.01)


def test_a_version_without_metric_tags_cannot_be_gated(reg: Registry) -> None:
    version = reg.client.create_model_version(reg.name, str(reg.tmp))
    with pytest.raises(ValueError, match="has no metric.<task>.<metric> tags"):
        promote(reg.name, version.version, client=reg.client)


def test_scores_on_other_data_are_not_compared(reg: Registry) -> None:
    v1 = reg.add({"i2b2-2010": 0.80, "medrqe": 0.70})
    promote(reg.name, client=reg.client)
    reg.add({"i2b2-2010": 0.95, "medrqe": 0.95}, data="md5-b")  # better, but on another test split
    with pytest.raises(PromotionRefused, match=r"not comparable \(i2b2-2010: scored on other processed data "
                                               r"\(md5-b… vs md5-a…\).*re-score production on the candidate's data"
                                               r".*evaluate-model/local") as refused:
        promote(reg.name, client=reg.client)
    assert set(refused.value.decision.incomparable) == {"i2b2-2010", "medrqe"}
    assert reg.alias(PRODUCTION) == v1
    assert reg.tags(refused.value.decision.version)["promotion.incomparable"] == "i2b2-2010,medrqe"


def test_unrecorded_data_or_another_selection_is_not_compared(reg: Registry) -> None:
    reg.add({"medrqe": 0.70})
    promote(reg.name, client=reg.client)
    reg.add({"medrqe": 0.90}, data=None)
    with pytest.raises(PromotionRefused, match="medrqe: processed-data version not recorded on the candidate"):
        promote(reg.name, client=reg.client)
    reg.add({"medrqe": 0.90}, selection="paper")
    with pytest.raises(PromotionRefused, match="medrqe: selection paper vs dev"):
        promote(reg.name, client=reg.client)
    reg.add({"medrqe": 0.90})
    assert promote(reg.name, client=reg.client).accepted


LINKED = {"i2b2-2010": 0.80, "i2b2-2010-assertion": 0.90, "i2b2-2010-relations": 0.60, "n2c2-2018-relations": 0.70}


def test_a_link_task_that_got_worse_refuses_the_candidate(reg: Registry) -> None:
    v1 = reg.add(LINKED)
    promote(reg.name, client=reg.client)
    reg.add(LINKED | {"i2b2-2010": 0.85, "i2b2-2010-relations": 0.55})  # better NER, worse relations
    with pytest.raises(PromotionRefused, match=r"regressions beyond 0\.01: i2b2-2010-relations -0\.0500") as refused:
        promote(reg.name, client=reg.client)
    decision = refused.value.decision
    assert set(decision.regressed) == {"i2b2-2010-relations"} and reg.alias(PRODUCTION) == v1
    assert decision.deltas == pytest.approx({"i2b2-2010": 0.05, "i2b2-2010-assertion": 0.0,
                                             "i2b2-2010-relations": -0.05, "n2c2-2018-relations": 0.0})
    tags = reg.tags(decision.version)
    assert tags["promotion.delta.i2b2-2010-relations"] == "-0.050000" and tags["metric.i2b2-2010-relations.f1"]
    # a candidate without the assertion task would stop serving assertions
    reg.add({t: v for t, v in LINKED.items() if t != "i2b2-2010-assertion"} | {"i2b2-2010": 0.9})
    with pytest.raises(PromotionRefused, match="i2b2-2010-assertion missing"):
        promote(reg.name, client=reg.client)
    v4 = reg.add(LINKED | {"i2b2-2010-assertion": 0.95})
    assert promote(reg.name, client=reg.client).accepted and reg.alias(PRODUCTION) == v4
    assert reg.alias(PREVIOUS) == v1


def test_link_tasks_are_compared_on_their_source_corpus_data(reg: Registry, tmp_path: Path) -> None:
    """The version tags a training run writes (runs.version_tags): a derived task carries its source corpus's
    processed-data hashes, so two versions trained on the same `dvc repro` output compare on it."""
    from mtclin.tracking import runs
    from mtclin.train.config import TrainConfig

    def lock(md5: str) -> None:
        (tmp_path / "dvc.lock").write_text(
            "schema: '2.0'\nstages:\n  preprocess@i2b2-2010:\n    cmd: mtclin preprocess i2b2-2010\n    outs:\n"
            f"    - path: processed/i2b2-2010\n      hash: md5\n      md5: {md5}.dir\n")

    def add(scores: dict[str, float]) -> str:
        config = TrainConfig(corpora=tuple(scores))
        tags = metric_tags({t: (primary_metric_for(t), v) for t, v in scores.items()}) | runs.version_tags(
            config, tmp_path)
        version = reg.client.create_model_version(reg.name, str(reg.tmp), tags=tags)
        reg.client.set_registered_model_alias(reg.name, CANDIDATE, version.version)
        return str(version.version)

    lock("aaaa1111")
    scores = {"i2b2-2010": 0.8, "i2b2-2010-assertion": 0.9, "i2b2-2010-relations": 0.6}
    v1 = add(scores)
    tags = reg.tags(v1)
    assert tags["mtclin.data.i2b2-2010-assertion"] == tags["mtclin.data.i2b2-2010-relations"] == \
        tags["mtclin.data.i2b2-2010"] == "aaaa1111.dir"
    promote(reg.name, client=reg.client)
    add(scores | {"i2b2-2010-assertion": 0.7})
    with pytest.raises(PromotionRefused, match=r"i2b2-2010-assertion -0\.2000"):
        promote(reg.name, client=reg.client)
    lock("bbbb2222")  # preprocessed again: the link tasks' scores are no longer comparable either
    add(scores | {"i2b2-2010-assertion": 0.95})
    with pytest.raises(PromotionRefused, match="not comparable") as refused:
        promote(reg.name, client=reg.client)
    assert set(refused.value.decision.incomparable) == set(scores) and reg.alias(PRODUCTION) == v1
