"""A declared corpus chooses its NER head (``ner_head: bio | span``); training's ner_heads overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtclin.corpora.declared import DeclarationError, declared_corpora
from mtclin.tasks import task_for_corpus

BRAT = "format: brat\n    kind: ner\n    labels: [Disease]\n    splits: {train: train, test: test}\n"


def _declare(tmp_path: Path, body: str, name: str = "ward-notes") -> Path:
    (tmp_path / "corpora.yaml").write_text(f"corpora:\n  {name}:\n    {body}", encoding="utf-8")
    return tmp_path


def test_declared_ner_head_is_the_task_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = _declare(tmp_path, BRAT + "    ner_head: span\n")
    assert declared_corpora(project)["ward-notes"].ner_head == "span"
    monkeypatch.setenv("MTCLIN_PROJECT_DIR", str(project))
    assert task_for_corpus("ward-notes").head == "span"
    assert task_for_corpus("ward-notes", ner_head="bio").head == "bio"  # training's ner_heads wins


def test_without_ner_head_a_declared_corpus_is_bio(tmp_path: Path):
    assert declared_corpora(_declare(tmp_path, BRAT))["ward-notes"].ner_head == "bio"


def test_a_builtin_format_may_declare_a_span_head(tmp_path: Path):
    project = _declare(tmp_path, "format: quaero-2014\n    ner_head: span\n", name="quaero-local")
    assert declared_corpora(project)["quaero-local"].ner_head == "span"


@pytest.mark.parametrize("body,message", [
    (BRAT + "    ner_head: crf\n",
     r"corpora\.yaml:7: corpora\.ward-notes\.ner_head: 'crf' is unknown; one of bio, span"),
    ("format: jsonl-pairs\n    kind: nli\n    splits: {train: train, test: test}\n    ner_head: span\n",
     r"ner_head: a nli corpus has no NER head; remove this key"),
])
def test_a_wrong_ner_head_names_file_line_and_key(tmp_path: Path, body: str, message: str):
    with pytest.raises(DeclarationError, match=message):
        declared_corpora(_declare(tmp_path, body))
