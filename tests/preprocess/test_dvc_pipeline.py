"""The real DVC pipeline: the built-in sample corpora, then a corpus declared in corpora.yaml alone.

Stages come from the declarations (dvc.yaml lists no corpus): ``preprocess@<corpus>`` for the built-ins (from
mtclin/corpora/stages.yaml), ``declared@<name>`` for the project's corpora.yaml. After no change nothing is
recomputed; changing one corpus, its reader or its declaration recomputes only that corpus.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mtclin.corpora.registry import CORPORA
from mtclin.corpora.stages import STAGES_FILE, render
from mtclin.tasks import task_for_corpus
from tests.scratch import make_project, run

REPO = Path(__file__).resolve().parents[2]
DECLARED = REPO / "tests" / "corpora" / "fixtures" / "declared"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh git + DVC project with this checkout's pipeline files and code and the sample corpora."""
    return make_project(tmp_path / "project", scale=1.0)


def test_the_stage_list_is_derived_from_the_declarations():
    assert STAGES_FILE.read_text(encoding="utf-8") == render(), "run `python -m mtclin.corpora.stages`"
    assert list(yaml.safe_load(STAGES_FILE.read_text())["builtin"]) == list(CORPORA)
    dvc_yaml = (REPO / "dvc.yaml").read_text(encoding="utf-8")
    assert not [corpus for corpus in CORPORA if corpus in dvc_yaml]  # no hand-kept list of corpora
    sections = yaml.safe_load((REPO / "params.yaml").read_text())["preprocess"]
    assert set(CORPORA) <= set(sections)  # a built-in stage depends on its params section: it must exist
    assert yaml.safe_load((REPO / "corpora.yaml").read_text()) == {"corpora": {}}  # the template declares none


@pytest.mark.slow
def test_repro_builds_all_eight_then_recomputes_nothing(project: Path):
    first = run(["dvc", "repro"], project)
    for corpus in CORPORA:
        assert f"Running stage 'preprocess@{corpus}'" in first
        for name in ("train.parquet", "test.parquet", "stats.json"):
            assert (project / "processed" / corpus / name).is_file()
    stamps = {p: p.stat().st_mtime_ns for p in (project / "processed").rglob("*.parquet")}

    second = run(["dvc", "repro"], project)
    assert "Running stage" not in second
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # one corpus's raw data changes: only its stage runs again
    sts = next((project / "data" / "n2c2-2019").rglob("clinicalSTS2019.train.txt"))
    sts.write_text(sts.read_text() + "a new pair\tanother sentence\t2.5\n")
    third = run(["dvc", "repro"], project)
    assert "Running stage 'preprocess@n2c2-2019'" in third
    assert third.count("Running stage") == 1
    metrics = run(["dvc", "metrics", "show", "--json"], project)
    assert "n2c2-2019" in metrics

    # one reader module changes: only its corpus runs again
    reader = project / "mtclin" / "corpora" / "medrqe.py"
    reader.write_text(reader.read_text() + "# touched\n")
    fourth = run(["dvc", "repro"], project)
    assert "Running stage 'preprocess@medrqe'" in fourth and fourth.count("Running stage") == 1


def test_a_corpus_declared_in_corpora_yaml_alone_is_inspected_and_preprocessed(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch):
    project = make_project(tmp_path / "project", 1.0, releases={"ward-notes": DECLARED / "ward-notes"})
    shutil.copy(DECLARED / "corpora.yaml", project / "corpora.yaml")  # the only change the user makes

    inspected = json.loads(run(["mtclin", "inspect", "ward-notes", "data/ward-notes", "--json"], project))
    assert inspected["labels"] == ["Drug", "Problem", "Test"] and inspected["problems"]["count"] == 0
    assert {split: s["documents"] for split, s in inspected["splits"].items()} == {"train": 4, "dev": 2, "test": 2}
    assert inspected["splits"]["train"]["discontinuous"] == 1

    out = run(["mtclin", "preprocess", "ward-notes", "--data", "data/ward-notes", "--out", str(tmp_path / "by-hand")],
              project)
    assert "ward-notes: wrote" in out

    first = run(["dvc", "repro", "declared@ward-notes"], project)
    assert "Running stage 'declared@ward-notes'" in first and first.count("Running stage") == 1
    processed = project / "processed" / "ward-notes"
    stats = json.loads((processed / "stats.json").read_text())
    assert stats["labels"] == ["Drug", "Problem", "Test"] and stats["dev_split"] == {"source": "official"}
    assert all((processed / f"{split}.parquet").is_file() for split in ("train", "dev", "test"))
    assert (processed / "stats.json").read_bytes() == (tmp_path / "by-hand" / "stats.json").read_bytes()
    # training builds the head with the labels preprocessing recorded
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(project))
    task = task_for_corpus("ward-notes")
    assert (task.kind, task.labels) == ("ner", ("Drug", "Problem", "Test")) and task.num_outputs == 7
    assert "declared@ward-notes" in yaml.safe_load((project / "dvc.lock").read_text())["stages"]

    assert "Running stage" not in run(["dvc", "repro", "declared@ward-notes"], project)
    # its declaration changes (labels now fixed by hand): it is recomputed
    declaration = (project / "corpora.yaml").read_text()
    (project / "corpora.yaml").write_text(declaration.replace("    kind: ner\n",
                                                              "    kind: ner\n    labels: [Problem, Drug, Test]\n"))
    again = run(["dvc", "repro", "declared@ward-notes"], project)
    assert "Running stage 'declared@ward-notes'" in again
    assert json.loads((processed / "stats.json").read_text())["labels"] == ["Problem", "Drug", "Test"]
