"""A run with the PHI task (i2b2-2014) logs ``test/i2b2-2014/deid_{precision,recall,f1}`` of the selected model
(BIO and span head), with the same values as its test.json; another NER task of the run gets none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtclin.deid import PHI_TASK
from mtclin.evaluate.run import deid_metrics
from mtclin.tasks import TaskSpec
from mtclin.tracking import runs, store
from tests.toy_tasks import NOTES, parse_note, write_tables
from tests.tracking import sqlite_uri, toy_config

# synthetic PHI notes ([text|TYPE] marks gold), adjacent PHI (a record number glued to a city) included
PHI_NOTES = [
    "seen by [lee|DOCTOR] on [2067-05-03|DATE] in [boston|CITY] .",
    "mrn [8675309|MEDICALRECORD][boston|CITY] , patient [mary jones|PATIENT] , [54|AGE] years old .",
    "follow up with [dr|DOCTOR] [smith|DOCTOR] on [2067-06-01|DATE] .",
    "no phi in this note .",
]
DEID = ("deid_precision", "deid_recall", "deid_f1")


@pytest.mark.parametrize("head", ["bio", "span"])
def test_test_deid_metrics_are_logged_for_the_phi_task(tiny: tuple[Any, Path], tmp_path: Path, head: str) -> None:
    processed = write_tables(tmp_path / "processed", {
        PHI_TASK: [parse_note(f"phi{i}", n) for i, n in enumerate(PHI_NOTES)],
        "n2c2-2018": [parse_note(f"note{i}", n) for i, n in enumerate(NOTES)]})
    config = toy_config(tmp_path, tiny[1], processed, corpora=(PHI_TASK, "n2c2-2018"), epochs=1,
                        ner_heads={PHI_TASK: head})
    uri = sqlite_uri(tmp_path)
    done = runs.track_training(config, uri=uri, system_metrics=False, root=tmp_path)
    test = done.result.test["metrics"]
    logged = store.client(uri).get_run(done.run_id).data.metrics
    for name in DEID:
        assert 0.0 <= test[PHI_TASK][name] <= 1.0
        assert logged[f"test/{PHI_TASK}/{name}"] == pytest.approx(test[PHI_TASK][name])
        assert f"{PHI_TASK}/{name}" in logged  # per epoch on dev too, as every task metric
    assert test[PHI_TASK]["deid_gold"] == 10 and f"test/{PHI_TASK}/deid_gold" in logged
    assert not [k for k in logged if "n2c2-2018" in k and "deid" in k]


def test_deid_metrics_only_for_the_phi_task() -> None:
    rows = [{"doc_id": "d", "starts": [0, 4], "ends": [3, 9]}]
    gold = {"d": {(4, 9, "DATE")}}
    assert deid_metrics(TaskSpec("n2c2-2018", "ner", ("Drug",)), rows, gold, gold) == {}
    got = deid_metrics(TaskSpec(PHI_TASK, "ner", ("DATE",)), rows, gold, {"d": [(4, 9, "AGE", 0.5)]})
    assert (got["deid_precision"], got["deid_recall"], got["deid_f1"]) == (1.0, 1.0, 1.0)
