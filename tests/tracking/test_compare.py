from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtclin.tracking import compare, store
from tests.tracking import sqlite_uri

RUNS = [  # (schedule, corpora, seed, {metric: value})
    ("round_robin", "medrqe,n2c2-2019,i2b2-2010", 0,
     {"best/score": 0.80, "best/medrqe/accuracy": 0.765, "best/n2c2-2019/pearson": 0.867, "best/i2b2-2010/f1": 0.895}),
    ("round_robin", "medrqe,n2c2-2019,i2b2-2010", 1,  # a worse seed overall, though better on medrqe: not chosen
     {"best/score": 0.70, "best/medrqe/accuracy": 0.90, "best/n2c2-2019/pearson": 0.5, "best/i2b2-2010/f1": 0.7}),
    ("loss_sum", "medrqe,n2c2-2019,i2b2-2010", 0,
     {"best/score": 0.79, "best/medrqe/accuracy": 0.775, "best/n2c2-2019/pearson": 0.845, "best/i2b2-2010/f1": 0.906}),
    ("single_task", "medrqe", 0, {"best/score": 0.801, "best/medrqe/accuracy": 0.801}),
    ("single_task", "medrqe", 1, {"best/score": 0.78, "best/medrqe/accuracy": 0.78}),
    ("single_task", "i2b2-2010", 0, {"best/score": 0.898, "best/i2b2-2010/f1": 0.898}),
]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Synthetic finished runs as the training logger tags them, children of one parent run."""
    uri = sqlite_uri(tmp_path_factory.mktemp("compare"))
    client = store.client(uri)
    experiment_id = store.ensure_experiment(store.DEFAULT_EXPERIMENT, uri)
    parent = client.create_run(experiment_id, run_name="baselines").info.run_id
    for schedule, corpora, seed, metrics in RUNS:
        run = client.create_run(experiment_id, tags={"mtclin.schedule": schedule, "mtclin.corpora": corpora,
                                                     "mtclin.seed": str(seed), "mtclin.parent": parent})
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)
    failed = client.create_run(experiment_id, tags={"mtclin.schedule": "single_task", "mtclin.corpora": "medrqe",
                                                    "mtclin.parent": parent})
    client.log_metric(failed.info.run_id, "best/medrqe/accuracy", 0.99)
    client.set_terminated(failed.info.run_id, "FAILED")
    stray = client.create_run(experiment_id, tags={"mtclin.schedule": "single_task", "mtclin.corpora": "medrqe"})
    client.log_metric(stray.info.run_id, "best/medrqe/accuracy", 0.95)  # another sweep's run
    client.set_terminated(stray.info.run_id)
    return uri, parent


def rows_by_corpus(experiment: tuple[str, str]) -> dict[str, Any]:
    uri, parent = experiment
    runs = compare.search_training_runs(uri=uri, parent=parent)
    return {r.corpus: r for r in compare.table2_rows(runs)}


def test_rows_per_corpus(experiment: tuple[str, str]) -> None:
    rows = rows_by_corpus(experiment)
    assert list(rows) == ["n2c2-2019", "medrqe", "i2b2-2010"]  # the paper's order
    medrqe = rows["medrqe"]
    assert medrqe.metric == "accuracy"
    assert medrqe.values == {"round_robin": 0.765, "loss_sum": 0.775, "single_task": 0.801}
    assert medrqe.single_task_runs == 2 and medrqe.delta == pytest.approx(-0.036)
    assert rows["i2b2-2010"].values["round_robin"] == 0.895 and rows["i2b2-2010"].delta == pytest.approx(-0.003)
    assert rows["n2c2-2019"].values["single_task"] is None and rows["n2c2-2019"].delta is None


def test_markdown_in_points(experiment: tuple[str, str]) -> None:
    table = compare.markdown(list(rows_by_corpus(experiment).values()))
    lines = table.splitlines()
    assert lines[0] == ("| dataset | metric | MT round robin | MTL loss sum | best single-task | Δ (RR − single) "
                        "| single-task runs |")
    assert "| n2c2-2019 | pearson | 86.7 | 84.5 | – | – | 0 |" in lines
    assert "| medrqe | accuracy | 76.5 | 77.5 | 80.1 | -3.6 | 2 |" in lines
    assert "| i2b2-2010 | f1 | 89.5 | 90.6 | 89.8 | -0.3 | 1 |" in lines


def test_logged_as_artifacts(experiment: tuple[str, str]) -> None:
    uri, parent = experiment
    client = store.client(uri)
    rows = compare.log_table2(parent, compare.search_training_runs(uri=uri, parent=parent), uri)
    assert len(rows) == 3
    assert {a.path for a in client.list_artifacts(parent, "table2")} == {
        "table2/table2.md", "table2/table2.png", "table2/table2.json"}
    md = Path(client.download_artifacts(parent, "table2/table2.md")).read_text(encoding="utf-8")
    assert md == compare.markdown(rows)
    assert Path(client.download_artifacts(parent, "table2/table2.png")).read_bytes()[:4] == b"\x89PNG"


def test_without_a_parent_every_finished_run_counts(experiment: tuple[str, str]) -> None:
    uri, _ = experiment
    rows = {r.corpus: r for r in compare.table2_rows(compare.search_training_runs(uri=uri))}
    assert rows["medrqe"].values["single_task"] == 0.95 and rows["medrqe"].single_task_runs == 3
    assert compare.search_training_runs(["no-such-experiment"], uri=uri) == []
