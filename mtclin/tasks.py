"""Task specifications: one per corpus, what its head predicts and how it is scored.

A TaskSpec is saved with the model (``tasks.json``) so that a model directory is self-describing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mtclin.corpora.types import TaskKind

PRIMARY_METRIC: dict[str, str] = {"ner": "f1", "nli": "accuracy", "sts": "pearson"}


@dataclass(frozen=True)
class TaskSpec:
    """``labels``: entity types (ner), classes (nli), nothing (sts)."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...]

    @property
    def tag_labels(self) -> tuple[str, ...]:
        """The head's output classes: BIO tags for NER ("O" first), the classes for NLI, none for STS."""
        if self.kind == "ner":
            return ("O",) + tuple(f"{p}-{t}" for t in self.labels for p in ("B", "I"))
        return self.labels

    @property
    def num_outputs(self) -> int:
        return 1 if self.kind == "sts" else len(self.tag_labels)

    @property
    def primary_metric(self) -> str:
        return PRIMARY_METRIC[self.kind]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"labels": list(self.labels)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TaskSpec":
        return cls(name=data["name"], kind=data["kind"], labels=tuple(data["labels"]))


def task_for_corpus(name: str, processed_dir: Path | None = None) -> TaskSpec:
    """The task of a corpus: its declaration's kind and labels. A corpus declared without labels takes them from
    its train split: they are read from ``processed_dir/<name>/stats.json`` (default ``<project>/processed``),
    where preprocessing recorded them, so that the head is built with the labels of the data it is trained on."""
    from mtclin.corpora.declared import project_root
    from mtclin.corpora.registry import corpus_info

    info = corpus_info(name)
    if not info.labels_from_train:
        return TaskSpec(name=info.name, kind=info.kind, labels=info.labels)
    stats = Path(processed_dir if processed_dir is not None else project_root() / "processed") / name / "stats.json"
    labels = json.loads(stats.read_text(encoding="utf-8")).get("labels") if stats.is_file() else None
    if not labels:
        raise FileNotFoundError(
            f"{stats}: no labels recorded for {name!r}, whose labels are taken from its train split when it is "
            f"preprocessed: run `dvc repro {_stage(name)}` (or `mtclin preprocess {name} ...`) first, or declare "
            f"its labels in {info.declared_in}")
    return TaskSpec(name=info.name, kind=info.kind, labels=tuple(labels))


def primary_metric_for(name: str) -> str:
    """How a corpus's task is scored (its kind decides; no processed data needed)."""
    from mtclin.corpora.registry import corpus_info

    return PRIMARY_METRIC[corpus_info(name).kind]


def _stage(name: str) -> str:
    from mtclin.dvc_stages import stage_name

    return stage_name(name)
