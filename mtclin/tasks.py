"""Task specifications: one per corpus, what its head predicts and how it is scored.

A TaskSpec is saved with the model (``tasks.json``) so that a model directory is self-describing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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


def task_for_corpus(name: str) -> TaskSpec:
    """The task of a registered corpus (its reader's kind and label list)."""
    from mtclin.corpora.registry import corpus_info

    info = corpus_info(name)
    return TaskSpec(name=info.name, kind=info.kind, labels=info.labels)
