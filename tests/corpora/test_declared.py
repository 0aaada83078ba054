"""Corpora declared in a project's corpora.yaml: the declaration's checks, the generic readers' strictness, and the
labels a corpus takes from train. What every corpus shares (round trip, debris, splits, no text) is in
test_contract.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mtclin.corpora.declared import DeclarationError, declared_corpora
from mtclin.corpora.problems import CorpusFormatError
from mtclin.corpora.registry import CORPORA, corpus_info, corpus_names, read_corpus
from mtclin.tasks import task_for_corpus

FIXTURES = Path(__file__).parent / "fixtures"
WARD = FIXTURES / "declared" / "ward-notes"
SECRET = "Zebulon"  # stands for note text: never in a message
BRAT = "format: brat\n    kind: ner\n    splits: {train: standoff/train, dev: standoff/dev, test: standoff/test}\n"


def _project(tmp_path: Path, declarations: str, corpus: str = "ward-notes", data: Path | None = WARD) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "corpora.yaml").write_text(declarations, encoding="utf-8")
    if data is not None and not (project / "data" / corpus).exists():
        shutil.copytree(data, project / "data" / corpus)
    return project


def _declare(tmp_path: Path, body: str, name: str = "ward-notes") -> Path:
    return _project(tmp_path, f"corpora:\n  {name}:\n    {body}")


# -- where declarations are found ------------------------------------------------------------------------------

def test_without_corpora_yaml_only_the_builtins_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MTCLIN_PROJECT_DIR", raising=False)
    assert declared_corpora() == {} and corpus_names() == CORPORA
    with pytest.raises(KeyError, match=r"unknown corpus 'ward-notes'; known: n2c2-2019, .*corpora\.yaml"):
        corpus_info("ward-notes")


def test_the_project_is_mtclin_project_dir_else_the_working_directory(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    project = _declare(tmp_path, BRAT)
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(project))
    assert corpus_names()[-1] == "ward-notes" and corpus_names()[:8] == CORPORA
    monkeypatch.delenv("MTCLIN_PROJECT_DIR")
    monkeypatch.chdir(project)
    info = corpus_info("ward-notes")
    assert (info.kind, info.format, info.splits, info.labels, info.paper_order) == (
        "ner", "brat", ("train", "dev", "test"), (), None)
    assert info.labels_from_train and not info.builtin and info.declared_in.endswith("corpora.yaml")
    assert CORPORA == corpus_names()[:8]  # the paper's eight stay the default everywhere


def test_a_changed_corpora_yaml_is_read_again(tmp_path: Path):
    project = _declare(tmp_path, BRAT)
    assert corpus_info("ward-notes", project).labels == ()
    (project / "corpora.yaml").write_text(f"corpora:\n  ward-notes:\n    {BRAT}    labels: [Problem, Drug, Test]\n")
    assert corpus_info("ward-notes", project).labels == ("Problem", "Drug", "Test")


# -- wrong declarations: the file, the line, the corpus and the key ---------------------------------------------

@pytest.mark.parametrize(("declarations", "expected"), [
    ("corpora:\n  ward-notes:\n    format: conll\n", ":3: corpora.ward-notes.format: 'conll' is unknown; one of "
                                                   "brat, jsonl-pairs, tsv-pairs, i2b2-2010, i2b2-2012"),
    ("corpora:\n  ward-notes:\n    kind: ner\n", ":2: corpora.ward-notes.format: missing"),
    ("corpora:\n  ward-notes:\n    format: brat\n    kind: nli\n", ":4: corpora.ward-notes.kind: format 'brat' reads "
                                                                  "ner corpora, not nli"),
    ("corpora:\n  qa:\n    format: jsonl-pairs\n    splits: {train: a, test: b}\n",
     ":2: corpora.qa.kind: missing; one of nli, sts for format 'jsonl-pairs'"),
    ("corpora:\n  ward-notes:\n    format: brat\n", ":2: corpora.ward-notes.splits: missing or not a mapping"),
    ("corpora:\n  ward-notes:\n    format: brat\n    splits: {train: t}\n",
     ":4: corpora.ward-notes.splits: no test split; train and test are required"),
    ("corpora:\n  ward-notes:\n    format: brat\n    splits: {train: t, test: s, validation: v}\n",
     ":4: corpora.ward-notes.splits.validation: unknown split; known: train, dev, test"),
    ("corpora:\n  ward-notes:\n    format: brat\n    splits: {train: ../t, test: s}\n",
     ":4: corpora.ward-notes.splits.train: expected a relative path"),
    ("corpora:\n  ward-notes:\n    format: brat\n    splits: {train: s, test: s/test}\n",
     "corpora.ward-notes.splits.test: 's/test' lies in the train split's 's'"),
    ("corpora:\n  i2b2-2010:\n    format: brat\n", ":2: corpora.i2b2-2010: 'i2b2-2010' is the name of a built-in "
                                                 "corpus; give yours another name (e.g. i2b2-2010-local)"),
    ("corpora:\n  ward notes:\n    format: brat\n", ":2: corpora.ward notes: a corpus name is 1-64 letters"),
    ("corpora:\n  ward-notes:\n    format: brat\n    lables: [X]\n", ":4: corpora.ward-notes.lables: unknown key"),
    ("corpora:\n  ward-notes:\n    " + BRAT + "    labels: [Problem, Problem]\n",
     ":6: corpora.ward-notes.labels: a label is listed twice"),
    ("corpora:\n  ward-notes:\n    " + BRAT + "    labels: [side effect]\n",
     ":6: corpora.ward-notes.labels: 'side effect' is not a BRAT type name"),
    ("corpora:\n  qa:\n    format: jsonl-pairs\n    kind: nli\n    splits: {train: a, test: b}\n"
     "    labels: [true, false]\n", ":6: corpora.qa.labels: every label must be a non-empty string (got True; quote"),
    ("corpora:\n  sim:\n    format: tsv-pairs\n    kind: sts\n    splits: {train: a, test: b}\n    labels: [x]\n",
     ":6: corpora.sim.labels: an sts corpus has scores (0-5), not labels"),
    ("corpora:\n  sim:\n    format: tsv-pairs\n    kind: sts\n    splits: {train: a, test: b}\n"
     "    fields: {a: sentence_a}\n", ":6: corpora.sim.fields.a: expected a 0-based column number (or a name, with "
                                    "header: true), got 'sentence_a'"),
    ("corpora:\n  sim:\n    format: tsv-pairs\n    kind: sts\n    splits: {train: a, test: b}\n"
     "    fields: {label: 2}\n",
     ":6: corpora.sim.fields.label: unknown role for an sts corpus; known: a, b, score, id"),
    ("corpora:\n  ward-notes:\n    " + BRAT + "    header: true\n",
     ":6: corpora.ward-notes.header: only the pair formats (jsonl-pairs, tsv-pairs) have this key"),
    ("corpora:\n  other-rqe:\n    format: medrqe\n    splits: {train: a, test: b}\n",
     ":4: corpora.other-rqe.splits: the built-in medrqe reader finds its files by their official names"),
    ("ward-notes:\n  format: brat\n", ":1: ward-notes: unknown top-level key; declarations go under 'corpora:'"),
    ("corpora: [ward-notes]\n", ":1: corpora: expected a mapping of corpus name -> declaration"),
    ("corpora:\n  qa: {format: brat}\n  qa: {format: brat}\n", ":3: corpora.qa: declared twice"),
    ("corpora:\n  ward-notes: {format: brat\n", ": not valid YAML"),
])
def test_a_wrong_declaration_names_file_line_corpus_and_key(tmp_path: Path, declarations: str, expected: str):
    project = _project(tmp_path, declarations, data=None)
    with pytest.raises(DeclarationError) as err:
        declared_corpora(project)
    path = str((project / "corpora.yaml").absolute())
    assert str(err.value).startswith(path) and expected in str(err.value)[len(path):]


def test_a_builtin_reader_serves_a_declared_corpus_under_its_own_name(tmp_path: Path):
    project = _project(tmp_path, "corpora:\n  rqe-local:\n    format: medrqe\n", "rqe-local",
                       FIXTURES / "medrqe")
    info = corpus_info("rqe-local", project)
    assert (info.kind, info.labels, info.splits, info.paper_order, info.sample) == (
        "nli", ("false", "true"), ("train", "test"), None, None)
    corpus = read_corpus("rqe-local", project / "data" / "rqe-local", project_dir=project)
    assert corpus.name == "rqe-local" and corpus.splits == read_corpus("medrqe", FIXTURES / "medrqe").splits


# -- the generic readers are as strict as the built-in ones -----------------------------------------------------

def test_brat_a_type_not_declared_is_a_problem_at_its_line(tmp_path: Path):
    project = _declare(tmp_path, BRAT + "    labels: [Problem, Drug]\n")
    root = project / "data" / "ward-notes"
    with pytest.raises(CorpusFormatError, match=r"^standoff/train/note-001\.ann:line 4 \(offsets 85-93\): T4: "
                                                r"unknown label 'Test' \(expected one of Problem, Drug\)"):
        read_corpus("ward-notes", root, project_dir=project)
    corpus = read_corpus("ward-notes", root, project_dir=project, lenient=True)
    assert corpus.labels == ("Problem", "Drug") and len(corpus.problems) == 7  # every Test entity, skipped
    assert all(e.type != "Test" for docs in corpus.splits.values() for d in docs for e in d.entities)


def test_brat_labels_from_train_make_a_type_train_lacks_a_problem_in_test(tmp_path: Path):
    project = _declare(tmp_path, BRAT)
    ann = project / "data" / "ward-notes" / "standoff" / "test" / "note-202.ann"
    ann.write_text(ann.read_text().replace("T1\tProblem", "T1\tSymptom"))
    corpus = read_corpus("ward-notes", project / "data" / "ward-notes", project_dir=project, lenient=True)
    assert corpus.labels == ("Drug", "Problem", "Test")
    assert [str(p) for p in corpus.problems] == [
        "standoff/test/note-202.ann:line 1 (offsets 7-14): T1: unknown label 'Symptom' (expected one of Drug, "
        "Problem, Test); annotation skipped"]
    alone = read_corpus("ward-notes", project / "data" / "ward-notes", splits=("test",), project_dir=project)
    assert alone.problems == [] and alone.labels == ("Drug", "Problem", "Symptom", "Test")  # nothing to check against


def test_brat_a_split_that_is_a_file_is_a_problem(tmp_path: Path):
    project = _declare(tmp_path, "format: brat\n    splits: {train: standoff/train, test: notes.txt}\n")
    (project / "data" / "ward-notes" / "notes.txt").write_text(SECRET)
    with pytest.raises(CorpusFormatError, match=r"^\.: split 'test': notes\.txt/ is a file, not a folder"):
        read_corpus("ward-notes", project / "data" / "ward-notes", project_dir=project)


QA = {"question": "Q?", "candidate": "A.", "relation": "entails", "qid": "1"}
QA_DECLARATION = ("format: jsonl-pairs\n    kind: nli\n    splits: {train: train.jsonl, test: test.jsonl}\n"
                  "    fields: {a: question, b: candidate, label: relation, id: qid}\n")


def _qa(tmp_path: Path, train: list, test: list | None = None) -> tuple[Path, Path]:
    project = _project(tmp_path, f"corpora:\n  qa:\n    {QA_DECLARATION}", "qa", data=None)
    root = project / "data" / "qa"
    root.mkdir(parents=True)
    for split, records in (("train", train), ("test", test or [QA])):
        (root / f"{split}.jsonl").write_text(
            "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return project, root


@pytest.mark.parametrize(("record", "position", "message"), [
    ({**QA, "question": " "}, "line 2", "sentence a (field 'question') is empty or not text"),
    ({k: v for k, v in QA.items() if k != "candidate"}, "line 2", "missing field(s) 'candidate' (corpora.yaml: "
                                                                  "corpora.qa.fields)"),
    ({**QA, "relation": f"{SECRET} said it was fine"}, "line 2", "unknown label of 24 characters in label "
                                                                 "(field 'relation')"),
    ({**QA, "relation": f"{SECRET} " * 9}, "line 2", "label (field 'relation') has 71 characters: is it the "
                                                     "label's field?"),
    ({**QA, "qid": "1", "question": f"{SECRET}?"}, "line 2", "duplicate id '1' (first at line 1)"),
    (f'{{"question": "{SECRET}', "line 2 (column 14)", "invalid JSON: Unterminated string"),
])
def test_jsonl_pairs_bad_records_name_file_and_line(tmp_path: Path, record, position: str, message: str):
    project, root = _qa(tmp_path, [QA, {**QA, "qid": "2", "relation": "unrelated"}, record]
                        if "duplicate" not in message else [QA, record])
    if "unknown label" in message:  # declared labels: the long relation is not one of them
        text = (project / "corpora.yaml").read_text() + "    labels: [entails, unrelated]\n"
        (project / "corpora.yaml").write_text(text)
    line = "line 3" if "duplicate" not in message else position
    position = position.replace("line 2", line)
    with pytest.raises(CorpusFormatError) as err:
        read_corpus("qa", root, project_dir=project)
    assert str(err.value).startswith(f"train.jsonl:{position}: {message}") and SECRET not in str(err.value)
    corpus = read_corpus("qa", root, project_dir=project, lenient=True)
    assert len(corpus.problems) == 1 and [p.id for p in corpus.splits["train"]][:1] == ["1"]


def test_tsv_pairs_rows_are_checked_like_the_builtin_tsv(tmp_path: Path):
    project = _project(tmp_path, "corpora:\n  sim:\n    format: tsv-pairs\n    kind: sts\n"
                                 "    splits: {train: train.tsv, test: test.tsv}\n", "sim", data=None)
    root = project / "data" / "sim"
    root.mkdir(parents=True)
    (root / "train.tsv").write_text(f'a\tb\t4.0\n"{SECRET} ""x"""\tb\t6\n{SECRET}\tb\n"{SECRET}\tb\t1\n',
                                    encoding="utf-8")
    (root / "test.tsv").write_text("a\tb\t1.5\r\n", encoding="utf-8")
    corpus = read_corpus("sim", root, project_dir=project, lenient=True)
    assert sorted(str(p) for p in corpus.problems) == [
        "train.tsv:line 2: score 6.0 outside [0, 5]",
        "train.tsv:line 3: 2 tab-separated fields, expected 3",
        "train.tsv:line 4: malformed CSV quoting: unexpected end of data; a sentence that holds a quote must be "
        'wrapped in "..." with the quote doubled']
    assert all(SECRET not in str(p) for p in corpus.problems)
    assert [(p.id, p.score) for p in corpus.splits["train"]] == [("train-1", 4.0)]
    assert corpus.splits["test"][0].b == "b" and corpus.labels == ()


def test_tsv_pairs_a_header_without_the_declared_column(tmp_path: Path):
    project = _project(tmp_path, "corpora:\n  sim:\n    format: tsv-pairs\n    kind: sts\n    header: true\n"
                                 "    splits: {train: train.tsv, test: test.tsv}\n"
                                 "    fields: {a: s1, b: s2, score: similarity}\n", "sim", data=None)
    root = project / "data" / "sim"
    root.mkdir(parents=True)
    for split in ("train", "test"):
        (root / f"{split}.tsv").write_text("s1\ts2\tscore\na\tb\t1\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"^train\.tsv:line 1: the header has no column 'similarity' "
                                                r"\(score; corpora\.yaml: corpora\.sim\.fields\.score\); it has 3"):
        read_corpus("sim", root, project_dir=project)


# -- labels taken from train are fixed by preprocessing ---------------------------------------------------------

def test_task_labels_come_from_the_processed_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = _declare(tmp_path, BRAT)
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(project))
    with pytest.raises(FileNotFoundError, match=r"no labels recorded for 'ward-notes'.*dvc repro declared@ward-notes"):
        task_for_corpus("ward-notes")
    stats = project / "processed" / "ward-notes" / "stats.json"
    stats.parent.mkdir(parents=True)
    stats.write_text(json.dumps({"labels": ["Drug", "Problem", "Test"]}))
    assert task_for_corpus("ward-notes").tag_labels == (
        "O", "B-Drug", "I-Drug", "B-Problem", "I-Problem", "B-Test", "I-Test")
    elsewhere = tmp_path / "elsewhere" / "ward-notes"
    elsewhere.mkdir(parents=True)
    (elsewhere / "stats.json").write_text(json.dumps({"labels": ["Problem"]}))
    assert task_for_corpus("ward-notes", elsewhere.parent).labels == ("Problem",)
    assert task_for_corpus("i2b2-2010").labels == ("problem", "test", "treatment")  # built-ins: unchanged
