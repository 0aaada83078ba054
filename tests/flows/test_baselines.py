from __future__ import annotations

from pathlib import Path

import pytest

from flows.baselines import train_baselines


@pytest.mark.slow
def test_baselines_flow_groups_runs_and_builds_table2(prefect_harness, project: Path, tiny):
    import mlflow

    from mtclin.tracking import store

    _, model_dir = tiny
    corpora = ["medrqe", "n2c2-2019"]
    out = train_baselines(corpora=corpora, seeds=[0, 1], multitask_schedules=["round_robin", "loss_sum"],
                          encoder=str(model_dir), epochs=1, project_dir=str(project), learning_rate=1e-3)
    assert out["runs"] == 2 * 2 + 2
    client = store.client(store.tracking_uri(project))
    children = client.search_runs([client.get_experiment_by_name("mt-clinical-bert").experiment_id],
                                  filter_string=f"tags.`mtclin.parent` = '{out['parent_run_id']}'")
    schedules = sorted(r.data.tags["mtclin.schedule"] for r in children)
    assert schedules == ["loss_sum", "round_robin"] + ["single_task"] * 4
    assert all(r.data.tags["mlflow.parentRunId"] == out["parent_run_id"] for r in children)
    artifacts = {a.path for a in client.list_artifacts(out["parent_run_id"], "table2")}
    assert {"table2/table2.md", "table2/table2.png", "table2/table2.json"} <= artifacts
    with store.using(store.tracking_uri(project)):
        table = mlflow.artifacts.load_text(f"runs:/{out['parent_run_id']}/table2/table2.md")
    for corpus in corpora:
        assert corpus in table
    assert "round_robin" in table.replace(" ", "_").lower() or "round robin" in table.lower()
    assert all(r.data.metrics["train_seconds"] > 0 for r in children)

    # no single-task seeds: only the multitask run (here its finished checkpoint, so nothing is trained again)
    again = train_baselines(corpora=corpora, seeds=[], multitask_schedules=["round_robin"],
                            multitask_seeds={"round_robin": [0]}, encoder=str(model_dir), epochs=1,
                            project_dir=str(project), learning_rate=1e-3)
    assert again["runs"] == 1
    (child,) = client.search_runs([client.get_experiment_by_name("mt-clinical-bert").experiment_id],
                                  filter_string=f"tags.`mtclin.parent` = '{again['parent_run_id']}'")
    assert child.data.tags["mtclin.schedule"] == "round_robin" and child.data.tags["mtclin.seed"] == "0"
