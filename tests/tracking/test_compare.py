from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtclin.tracking import compare, store
from tests.tracking import sqlite_uri

RUNS = [  # (schedule, corpora, seed, {metric: value}); dev-selection metrics (best/...) never count
    ("round_robin", "medrqe,n2c2-2019,i2b2-2010", 0,
     {"best/medrqe/accuracy": 0.99, "test/medrqe/accuracy": 0.765, "test/n2c2-2019/pearson": 0.867,
      "test/i2b2-2010/f1": 0.895, "steps": 300}),
    ("round_robin", "medrqe,n2c2-2019,i2b2-2010", 1,
     {"test/medrqe/accuracy": 0.90, "test/n2c2-2019/pearson": 0.5, "test/i2b2-2010/f1": 0.7, "steps": 200}),
    ("loss_sum", "medrqe,n2c2-2019,i2b2-2010", 0,
     {"test/medrqe/accuracy": 0.775, "test/n2c2-2019/pearson": 0.845, "test/i2b2-2010/f1": 0.906, "steps": 100}),
    ("single_task", "medrqe", 0, {"test/medrqe/accuracy": 0.801, "steps": 50}),
    ("single_task", "medrqe", 1, {"test/medrqe/accuracy": 0.78, "steps": 70}),
    ("single_task", "i2b2-2010", 0, {"test/i2b2-2010/f1": 0.898, "steps": 40}),
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
                                                     "mtclin.seed": str(seed), "mtclin.parent": parent,
                                                     "mtclin.selection": "dev"})
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)
    failed = client.create_run(experiment_id, tags={"mtclin.schedule": "single_task", "mtclin.corpora": "medrqe",
                                                    "mtclin.parent": parent})
    client.log_metric(failed.info.run_id, "test/medrqe/accuracy", 0.99)
    client.set_terminated(failed.info.run_id, "FAILED")
    stray = client.create_run(experiment_id, tags={"mtclin.schedule": "single_task", "mtclin.corpora": "medrqe"})
    client.log_metric(stray.info.run_id, "test/medrqe/accuracy", 0.95)  # another sweep's run
    client.set_terminated(stray.info.run_id)
    return uri, parent


def rows_by_corpus(experiment: tuple[str, str]) -> dict[str, Any]:
    uri, parent = experiment
    runs = compare.search_training_runs(uri=uri, parent=parent)
    return {r.corpus: r for r in compare.table2_rows(runs)}


def test_rows_per_corpus_are_test_means_over_seeds(experiment: tuple[str, str]) -> None:
    rows = rows_by_corpus(experiment)
    assert list(rows) == ["n2c2-2019", "medrqe", "i2b2-2010"]  # the paper's order
    medrqe = rows["medrqe"]
    assert medrqe.metric == "accuracy"
    assert {k: sorted(c.values) for k, c in medrqe.cells.items()} == {
        "round_robin": [0.765, 0.90], "loss_sum": [0.775], "single_task": [0.78, 0.801]}
    assert medrqe.mean("round_robin") == pytest.approx(0.8325)
    assert medrqe.cells["round_robin"].sd == pytest.approx(0.0954594, abs=1e-6)
    assert medrqe.cells["loss_sum"].sd is None
    assert medrqe.delta == pytest.approx(0.8325 - 0.7905)
    assert medrqe.cells["single_task"].mean_steps == 60 and medrqe.cells["round_robin"].mean_steps == 250
    assert rows["i2b2-2010"].delta == pytest.approx(0.7975 - 0.898)
    assert rows["n2c2-2019"].mean("single_task") is None and rows["n2c2-2019"].delta is None


def test_markdown_in_points(experiment: tuple[str, str]) -> None:
    table = compare.markdown(list(rows_by_corpus(experiment).values()), selection="dev")
    lines = table.splitlines()
    assert lines[0].startswith("Model selection: best epoch on **dev**")
    assert lines[2] == ("| dataset | metric | MT round robin | MTL loss sum | single-task | Δ (RR − single) "
                        "| runs | mean steps |")
    assert "| n2c2-2019 | pearson | 68.3 ± 26.0 | 84.5 | – | – | 2 / 1 / 0 | 250 / 100 / – |" in lines
    assert "| medrqe | accuracy | 83.2 ± 9.5 | 77.5 | 79.0 ± 1.5 | +4.2 | 2 / 1 / 2 | 250 / 100 / 60 |" in lines
    assert "| i2b2-2010 | f1 | 79.8 ± 13.8 | 90.6 | 89.8 | -10.1 | 2 / 1 / 1 | 250 / 100 / 40 |" in lines


def test_paper_selection_is_labelled_and_never_mixed_with_dev() -> None:
    assert "paper protocol" in compare.markdown([], selection="paper")

    class Run:  # the two attributes table2_rows reads
        def __init__(self, selection: str):
            self.data = type("D", (), {"tags": {"mtclin.schedule": "single_task", "mtclin.corpora": "medrqe",
                                                "mtclin.selection": selection}, "metrics": {}})()

    with pytest.raises(ValueError, match="several selections"):
        compare.table2_rows([Run("dev"), Run("paper")])


def test_logged_as_artifacts(experiment: tuple[str, str]) -> None:
    uri, parent = experiment
    client = store.client(uri)
    rows = compare.log_table2(parent, compare.search_training_runs(uri=uri, parent=parent), uri)
    assert len(rows) == 3
    assert {a.path for a in client.list_artifacts(parent, "table2")} == {
        "table2/table2.md", "table2/table2.png", "table2/table2.json"}
    md = Path(client.download_artifacts(parent, "table2/table2.md")).read_text(encoding="utf-8")
    assert md == compare.markdown(rows, selection="dev")
    assert Path(client.download_artifacts(parent, "table2/table2.png")).read_bytes()[:4] == b"\x89PNG"


def test_without_a_parent_every_finished_run_counts(experiment: tuple[str, str]) -> None:
    uri, _ = experiment
    rows = {r.corpus: r for r in compare.table2_rows(compare.search_training_runs(uri=uri))}
    assert sorted(rows["medrqe"].cells["single_task"].values) == [0.78, 0.801, 0.95]
    assert compare.search_training_runs(["no-such-experiment"], uri=uri) == []


def test_derived_tasks_follow_their_source_corpus() -> None:
    tasks = ["zz-own-corpus", "quaero-2014", "i2b2-2010-relations", "n2c2-2018-relations", "i2b2-2010",
             "n2c2-2019", "i2b2-2010-assertion"]
    expected = ["n2c2-2019", "n2c2-2018-relations", "i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations",
                "quaero-2014", "zz-own-corpus"]  # n2c2-2018's tasks at its place though it has no row itself
    assert compare.row_order(tasks) == expected
    assert compare.row_order(reversed(tasks)) == expected


@pytest.fixture(scope="module")
def linked_runs(tiny, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, Any]]:
    """Real tracked training runs (one epoch on the link toys): round robin over NER + assertion + relations,
    and single-task runs of the assertion and one relation task; (uri, parent, {name: TrackedTraining})."""
    from mtclin.tracking import runs
    from tests.link_toys import write_linked_processed
    from tests.tracking import toy_config

    tmp = tmp_path_factory.mktemp("compare-linked")
    uri, processed = sqlite_uri(tmp), write_linked_processed(tmp / "processed")
    plan = {"multi": ("i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018-relations"),
            "assertion": ("i2b2-2010-assertion",), "relations": ("n2c2-2018-relations",)}
    done = {}
    with runs.start_parent_run("baselines", uri=uri, root=tmp) as parent:
        for name, corpora in plan.items():
            config = toy_config(tmp, tiny[1], processed, corpora=corpora, output_dir=str(tmp / name), epochs=1,
                                ner_batch_size=3, learning_rate=3e-3)
            done[name] = runs.track_training(config, uri=uri, parent=parent, system_metrics=False, root=tmp)
    return uri, parent, done


@pytest.mark.slow
def test_runs_with_link_tasks_give_their_rows(linked_runs) -> None:
    uri, parent, done = linked_runs
    rows = {r.corpus: r for r in compare.table2_rows(compare.search_training_runs(uri=uri, parent=parent))}
    assert list(rows) == ["n2c2-2018-relations", "i2b2-2010", "i2b2-2010-assertion", "i2b2-2010-relations"]
    assert {r.metric for r in rows.values()} == {"f1"}

    def f1_of(name: str, task: str) -> float:
        return pytest.approx(done[name].result.test["metrics"][task]["f1"])

    for task, row in rows.items():
        assert row.cells["round_robin"].values == [f1_of("multi", task)], task
        assert row.cells["loss_sum"].values == []
    assert rows["i2b2-2010-assertion"].cells["single_task"].values == [f1_of("assertion", "i2b2-2010-assertion")]
    assert rows["n2c2-2018-relations"].cells["single_task"].values == [f1_of("relations", "n2c2-2018-relations")]
    assert rows["i2b2-2010-relations"].delta is None and rows["i2b2-2010-assertion"].delta is not None
    lines = compare.markdown(list(rows.values()), selection="dev").splitlines()
    assert [line.split(" | ")[0] for line in lines[4:]] == [f"| {task}" for task in rows]
    assert all(line.split(" | ")[1] == "f1" for line in lines[4:])


@pytest.mark.slow
def test_link_tasks_log_their_other_scores(linked_runs) -> None:
    """Beside the primary metric: the assertion's accuracy and per value, the relations' end-to-end scores."""
    uri, _, done = linked_runs
    multi = done["multi"]
    metrics = store.client(uri).get_run(multi.run_id).data.metrics
    test = multi.result.test["metrics"]
    assertion, relations = test["i2b2-2010-assertion"], test["i2b2-2010-relations"]
    assert metrics["test/i2b2-2010-assertion/accuracy"] == pytest.approx(assertion["accuracy"])
    for value, scores in assertion["per_class"].items():
        assert metrics[f"test/i2b2-2010-assertion/per_class/{value}/f1"] == pytest.approx(scores["f1"])
    assert assertion["per_class"]
    assert metrics["test/i2b2-2010-relations/end_to_end/f1"] == pytest.approx(relations["end_to_end"]["f1"])
    assert metrics["test/i2b2-2010-relations/end_to_end/recall"] == pytest.approx(relations["end_to_end"]["recall"])
    assert "test/n2c2-2018-relations/end_to_end/f1" not in metrics  # its NER task was not trained in this run
