"""Every corpus mtclin knows, declared once: the built-in readers and the corpora a project declares.

A built-in corpus is one reader module with one ``@register`` line beside its code, declaring everything about it:
name, task kind, labels, splits, its place in the paper's tables, language and sample writer. A project declares
its own corpora in ``corpora.yaml`` (:mod:`mtclin.corpora.declared`); they become the same :class:`CorpusInfo`.
Every list of corpora derives from these declarations: ``CORPORA`` (the paper's eight, Table 1/2 order), the DVC
stages (:mod:`mtclin.corpora.stages`), the sample corpora, report orders and the bench lists. Never change
behaviour under an existing name.

A reader is a function ``read(root, *, splits=..., lenient=False) -> Corpus``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from mtclin.corpora.types import Corpus, TaskKind
from mtclin.registry import Registry

SPLITS: tuple[str, ...] = ("train", "test")  # what every release has
DEV = "dev"  # an official dev split, read by the readers of releases that have one (MedNLI, quaero)


class Reader(Protocol):
    def __call__(self, root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus: ...


@dataclass(frozen=True)
class CorpusInfo:
    """The declaration of one corpus. ``labels``: entity types (NER) or classes (NLI), in the order heads use;
    empty for STS and for a declared corpus whose labels are taken from its train split (:attr:`labels_from_train`;
    preprocessing records them, see :func:`mtclin.tasks.task_for_corpus`)."""

    name: str
    kind: TaskKind
    labels: tuple[str, ...]
    read: Reader
    splits: tuple[str, ...] = SPLITS  # the splits the reader knows
    optional: tuple[str, ...] = ()  # of those, the ones a release may lack (returned empty, no problem)
    paper_order: int | None = None  # row of the paper's Table 1/2 (1 = first); None: not one of the paper's corpora
    language: str = "en"
    sample: str | None = None  # "module:function" writing a sample corpus in the official layout
    format: str = ""  # the reader's format: a built-in's own name, or brat | jsonl-pairs | tsv-pairs
    declared_in: str | None = None  # the corpora.yaml that declares it; None for a built-in
    ner_head: str = "bio"  # NER: the head it trains by default, bio | span (training's ner_heads overrides it)
    assertions: tuple[str, ...] = ()  # assertion values its documents carry (i2b2-2010: present, absent, ...)
    relations: tuple[str, ...] = ()  # relation types its documents carry (n2c2-2018: Form-Drug, ...)

    @property
    def builtin(self) -> bool:
        return self.declared_in is None

    @property
    def labels_from_train(self) -> bool:
        return not self.labels and self.kind != "sts"

    def sample_writer(self) -> Callable[..., Any] | None:
        """The sample writer ``write(root, *, seed, scale) -> gold per split``, or None (declared corpora)."""
        if self.sample is None:
            return None
        module, _, function = self.sample.partition(":")
        return getattr(importlib.import_module(module), function or "write")


def load_modules() -> None:
    """Import every module of this package: their ``@register`` lines fill the registries (no list to keep)."""
    package = importlib.import_module("mtclin.corpora")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg:
            importlib.import_module(f"mtclin.corpora.{module.name}")


BUILTIN: Registry[CorpusInfo] = Registry("built-in corpus", load=load_modules)


def register(name: str, kind: TaskKind, labels: Sequence[str], splits: Sequence[str] = SPLITS, *,
             paper_order: int | None = None, language: str = "en", sample: str | None = None,
             assertions: Sequence[str] = (), relations: Sequence[str] = ()) -> Callable[[Reader], Reader]:
    """Declare the built-in corpus ``name`` read by the decorated function. A ``dev`` among ``splits`` is optional
    (releases without one exist; preprocessing then carves dev out of train). ``assertions`` / ``relations``: the
    assertion values and relation types its documents carry beside their entities, if any."""
    def decorator(read: Reader) -> Reader:
        optional = (DEV,) if DEV in splits else ()
        BUILTIN.add(name, CorpusInfo(name, kind, tuple(labels), read, tuple(splits), optional, paper_order,
                                     language, sample, format=name, assertions=tuple(assertions),
                                     relations=tuple(relations)))
        return read

    return decorator


@dataclass(frozen=True)
class DerivedTask:
    """A task read from another corpus's processed tables (no preprocessing of its own): ``kind`` assertion (each
    gold entity of ``entity_types`` classified into ``labels``, the assertion values) or relation (candidate pairs
    of entities classified into ``labels``, the relation types, or none). ``source``: the corpus whose processed
    tables (and NER task) it uses."""

    name: str
    kind: TaskKind
    source: str
    labels: tuple[str, ...]
    entity_types: tuple[str, ...] = ()  # assertion: the entity types it classifies (i2b2-2010: problem)


def load_derived() -> None:
    load_modules()


DERIVED: Registry[DerivedTask] = Registry("derived task", load=load_derived)


def derive(name: str, kind: TaskKind, source: str, labels: Sequence[str], entity_types: Sequence[str] = ()
           ) -> DerivedTask:
    """Declare the task ``name`` over corpus ``source``'s processed tables (beside the source's ``@register``):
    training, Table 2, promotion, run keys and DVC stages see it like any task; it reads ``processed/<source>/``
    and depends on the source's stage."""
    if kind not in ("assertion", "relation"):
        raise ValueError(f"derived task {name!r}: kind {kind!r}; use assertion or relation")
    return DERIVED.add(name, DerivedTask(name, kind, source, tuple(labels), tuple(entity_types)))


def derived_tasks() -> tuple[DerivedTask, ...]:
    """Every derived task, in declaration order."""
    return tuple(DERIVED.get(name) for name in DERIVED.names())


def source_of(task: str) -> str:
    """The corpus whose processed tables ``task`` reads: its source for a derived task, else itself."""
    return DERIVED.get(task).source if task in DERIVED else task


def task_names(project_dir: Path | None = None) -> tuple[str, ...]:
    """Every task a training run can name: every corpus (:func:`corpus_names`), then every derived task."""
    return corpus_names(project_dir) + DERIVED.names()


def check_splits(name: str, requested: Sequence[str], known: Sequence[str]) -> None:
    """Every reader's answer to a split it does not know: ValueError naming the known ones (a usage error, not a
    problem of the data; a known split missing from the release is a problem, see the readers)."""
    for split in requested:
        if split not in known:
            raise ValueError(f"unknown split {split!r} for {name}; known: {', '.join(known)}")


def builtin_corpora() -> tuple[CorpusInfo, ...]:
    """The built-in declarations: the paper's corpora in its table order, then any other by name."""
    infos = [BUILTIN.get(name) for name in BUILTIN.names()]
    return tuple(sorted(infos, key=lambda i: (i.paper_order is None, i.paper_order or 0, i.name)))


def _declared(project_dir: Path | None) -> dict[str, CorpusInfo]:
    from mtclin.corpora.declared import declared_corpora

    return declared_corpora(project_dir)


def corpus_names(project_dir: Path | None = None) -> tuple[str, ...]:
    """Every corpus known in the project: the built-ins, then those its corpora.yaml declares (in file order)."""
    return tuple(info.name for info in builtin_corpora()) + tuple(_declared(project_dir))


def corpus_info(name: str, project_dir: Path | None = None) -> CorpusInfo:
    """The declaration of ``name``: a built-in, or one declared in the project's corpora.yaml (``project_dir``:
    default ``MTCLIN_PROJECT_DIR`` or the working directory). KeyError listing the known names otherwise."""
    if name in BUILTIN:
        return BUILTIN.get(name)
    declared = _declared(project_dir)
    if name not in declared:
        from mtclin.corpora.declared import declarations_file

        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(corpus_names(project_dir))} (a corpus of your "
                       f"own is declared in {declarations_file(project_dir)}, see README 'Adding a corpus')")
    return declared[name]


def read_corpus(name: str, root: Path, *, splits: Sequence[str] | None = None, lenient: bool = False,
                project_dir: Path | None = None) -> Corpus:
    """Read corpus ``name`` from the directory the user unpacked its release into: ``splits``, or every split its
    declaration knows (an official ``dev`` included where the release has one)."""
    info = corpus_info(name, project_dir)
    check_splits(name, info.splits if splits is None else splits, info.splits)
    return info.read(Path(root), splits=info.splits if splits is None else tuple(splits), lenient=lenient)


def __getattr__(attribute: str) -> Any:
    # CORPORA is derived from the declarations, on first use (importing this module stays cheap).
    if attribute == "CORPORA":
        return tuple(info.name for info in builtin_corpora() if info.paper_order is not None)
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
