"""Task specifications: one per corpus, what its head predicts and how it is scored.

A TaskSpec is saved with the model (``tasks.json``) so that a model directory is self-describing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mtclin.corpora.types import LINK_KINDS, TaskKind

# assertion: micro-F1 over the gold entities (= accuracy when every entity is classified, i2b2-2010's measure);
# relation: micro-F1 over typed argument pairs on gold entities (n2c2-2018 track 2 "relations")
PRIMARY_METRIC: dict[str, str] = {"ner": "f1", "nli": "accuracy", "sts": "pearson", "assertion": "f1",
                                  "relation": "f1"}
RELATION_NONE = "none"  # the relation head's "no relation" class, first
LINK_WIDTH = 16  # link heads: width embeddings up to this many words (wider entities share the last one)
LINK_FIELDS = ("source", "entity_types", "type_pairs", "max_pair_chars", "max_span_width")
# How a NER task is tagged: "bio" = one BIO tag per word (one flat layer: nested/overlapping gold is flattened
# away), "span" = every word span up to max_span_width words classified as a type or none (nested entities learnt)
NER_HEADS = ("bio", "span")
SPAN_NONE = "O"  # the span head's "no entity" class, first like BIO's O


@dataclass(frozen=True)
class TaskSpec:
    """``labels``: entity types (ner), classes (nli), nothing (sts). ``head``, ``max_span_width`` and
    ``span_threshold`` only concern NER tasks (``head="span"``, see :mod:`mtclin.model.span_head`)."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...]
    head: str = "bio"  # NER: bio | span (NER_HEADS); a tasks.json written before span heads existed is bio
    max_span_width: int | None = None  # span head: longest candidate span, in words (resolved from train data)
    # span head: a span is an entity when P(not none) >= this; a decoding setting, not the head's shape, so two
    # specs differing only here describe the same head (compare=False: init with keep_heads keeps it)
    span_threshold: float = field(default=0.5, compare=False)
    # assertion / relation tasks (mtclin.model.link_heads): the NER corpus (and NER task) whose entities they read
    source: str | None = None
    entity_types: tuple[str, ...] = ()  # assertion: the entity types it classifies (others get no assertion)
    # relation: the (arg1 type, arg2 type) pairs that are candidates (those of the train gold relations)
    type_pairs: tuple[tuple[str, str], ...] = ()
    max_pair_chars: int | None = None  # relation: candidate pairs at most this many characters apart

    def __post_init__(self) -> None:
        if self.head not in NER_HEADS:
            raise ValueError(f"task {self.name!r}: head {self.head!r} is unknown; use one of {', '.join(NER_HEADS)}")
        if self.head != "bio" and self.kind != "ner":
            raise ValueError(f"task {self.name!r}: head {self.head!r} is for NER tasks, but this one is {self.kind}; "
                             "set ner_head only for NER corpora (ner_heads in params / --ner-head-for)")
        if self.max_span_width is not None and self.max_span_width < 1:
            raise ValueError(f"task {self.name!r}: max_span_width={self.max_span_width}: must be >= 1 word")
        if self.kind in LINK_KINDS and not self.source:
            raise ValueError(f"task {self.name!r}: a {self.kind} task needs its source NER corpus (source=...)")
        if self.max_pair_chars is not None and self.max_pair_chars < 0:
            raise ValueError(f"task {self.name!r}: max_pair_chars={self.max_pair_chars}: must be >= 0 characters")
        if not 0.0 < self.span_threshold < 1.0:
            raise ValueError(f"task {self.name!r}: span_threshold={self.span_threshold}: must be in (0, 1)")

    @property
    def is_span(self) -> bool:
        return self.head == "span"

    @property
    def is_link(self) -> bool:
        """An assertion or relation task: it classifies entities (pairs) of its source's NER windows."""
        return self.kind in LINK_KINDS

    @property
    def windowed(self) -> bool:
        """Encoded as NER windows (NER, assertion and relation tasks), not as sentence pairs."""
        return self.kind == "ner" or self.is_link

    @property
    def head_kind(self) -> str:
        """The head registry key (``mtclin.model.heads.HEADS``): the task kind, or ``span`` for a span NER task."""
        return "span" if self.is_span else self.kind

    @property
    def head_options(self) -> dict[str, Any]:
        """Keyword arguments of the head beyond (hidden size, outputs, dropout)."""
        if self.is_link:
            return {"max_width": self.max_span_width or LINK_WIDTH}
        if not self.is_span:
            return {}
        if self.max_span_width is None:
            raise ValueError(f"task {self.name!r}: a span head needs max_span_width; training resolves it from the "
                             "train split (mtclin.data.encode_spans.default_max_width) or max_span_widths")
        return {"max_width": self.max_span_width}

    @property
    def tag_labels(self) -> tuple[str, ...]:
        """The head's output classes: BIO tags for NER ("O" first), "O" (none) then the types for a span NER
        task, the classes for NLI, none for STS."""
        if self.is_span:
            return (SPAN_NONE,) + self.labels
        if self.kind == "ner":
            return ("O",) + tuple(f"{p}-{t}" for t in self.labels for p in ("B", "I"))
        if self.kind == "relation":
            return (RELATION_NONE,) + self.labels
        return self.labels

    @property
    def num_outputs(self) -> int:
        return 1 if self.kind == "sts" else len(self.tag_labels)

    @property
    def primary_metric(self) -> str:
        return PRIMARY_METRIC[self.kind]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self) | {"labels": list(self.labels)}
        if not self.is_span:  # a BIO / pair task's tasks.json stays as it was before span heads
            for key in ("head", "max_span_width", "span_threshold"):
                out.pop(key)
        if self.is_link:  # ... and before link heads
            out |= {"source": self.source, "entity_types": list(self.entity_types), "max_span_width":
                    self.max_span_width, "type_pairs": [list(p) for p in self.type_pairs],
                    "max_pair_chars": self.max_pair_chars}
        else:
            for key in ("source", "entity_types", "type_pairs", "max_pair_chars"):
                out.pop(key)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TaskSpec":
        span = {k: data[k] for k in ("head", "max_span_width", "span_threshold") if k in data}
        link = {k: data[k] for k in ("source", "max_pair_chars") if k in data}
        link |= {"entity_types": tuple(data.get("entity_types", ())),
                 "type_pairs": tuple(tuple(p) for p in data.get("type_pairs", ()))}
        return cls(name=data["name"], kind=data["kind"], labels=tuple(data["labels"]), **span, **link)


def task_for_corpus(name: str, processed_dir: Path | None = None, ner_head: str | None = None) -> TaskSpec:
    """The task of a corpus: its declaration's kind and labels. A corpus declared without labels takes them from
    its train split: they are read from ``processed_dir/<name>/stats.json`` (default ``<project>/processed``),
    where preprocessing recorded them, so that the head is built with the labels of the data it is trained on.
    ``ner_head``: bio | span, overriding the declaration's ``ner_head`` (default bio). A span task's
    ``max_span_width`` is left None here: it depends on the train data (see ``mtclin.train.session``)."""
    from mtclin.corpora.declared import project_root
    from mtclin.corpora.registry import DERIVED, corpus_info

    if name in DERIVED:  # an assertion / relation task: its train-dependent settings come from training_task
        derived = DERIVED.get(name)
        return TaskSpec(name=name, kind=derived.kind, labels=derived.labels, source=derived.source,
                        entity_types=derived.entity_types)
    info = corpus_info(name)
    head = ner_head or info.ner_head
    if not info.labels_from_train:
        return TaskSpec(name=info.name, kind=info.kind, labels=info.labels, head=head)
    stats = Path(processed_dir if processed_dir is not None else project_root() / "processed") / name / "stats.json"
    labels = json.loads(stats.read_text(encoding="utf-8")).get("labels") if stats.is_file() else None
    if not labels:
        raise FileNotFoundError(
            f"{stats}: no labels recorded for {name!r}, whose labels are taken from its train split when it is "
            f"preprocessed: run `dvc repro {_stage(name)}` (or `mtclin preprocess {name} ...`) first, or declare "
            f"its labels in {info.declared_in}")
    return TaskSpec(name=info.name, kind=info.kind, labels=tuple(labels), head=head)


def primary_metric_for(name: str) -> str:
    """How a corpus's (or a derived task's) task is scored (its kind decides; no processed data needed)."""
    from mtclin.corpora.registry import DERIVED, corpus_info

    return PRIMARY_METRIC[DERIVED.get(name).kind if name in DERIVED else corpus_info(name).kind]


def _stage(name: str) -> str:
    from mtclin.dvc_stages import stage_name

    return stage_name(name)
