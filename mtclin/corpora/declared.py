"""Corpora a project declares in its ``corpora.yaml``: a corpus of one's own without writing Python.

``corpora.yaml`` sits at the project root (``MTCLIN_PROJECT_DIR``, else the working directory)::

    corpora:
      ncbi-disease:
        format: brat            # brat | jsonl-pairs | tsv-pairs, or a built-in reader's name (i2b2-2010, ...)
        kind: ner               # ner | nli | sts (may be left out where the format reads one kind only)
        splits: {train: standoff/train, dev: standoff/devel, test: standoff/test}  # under data/<name>/
        labels: [Disease]       # optional: else taken from train, sorted, and recorded by preprocessing
        language: en            # optional (default en)
        fields: {a: question, b: answer, label: relation, id: pair_id}  # pairs: JSON fields or TSV columns
        header: true            # tsv-pairs: the first row names the columns
        ner_head: span          # optional, ner only: bio (default; one flat BIO layer) | span (nested entities)

Train and test are required, dev is optional (without it preprocessing carves dev out of train, as for the
built-ins). A declaration becomes a :class:`~mtclin.corpora.registry.CorpusInfo` read by its format's reader,
exactly like a built-in: ``mtclin inspect``, ``dvc repro`` (stage ``declared@<name>``), training, evaluation and
serving need nothing else. A wrong declaration is an error naming the file, line, corpus and key. The generic
formats are registered in :data:`FORMATS` by their modules (``standoff.py``, ``pairs.py``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Sequence

import yaml

from mtclin.corpora.registry import BUILTIN, DEV, CorpusInfo, check_splits, load_modules
from mtclin.corpora.types import Corpus, TaskKind
from mtclin.registry import Registry

DECLARATIONS = "corpora.yaml"
KINDS: tuple[TaskKind, ...] = ("ner", "nli", "sts")
SPLIT_ORDER = ("train", DEV, "test")
KEYS = ("format", "kind", "splits", "labels", "language", "fields", "header", "ner_head")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # it names data/<name>/, processed/<name>/, a DVC stage


class DeclarationError(ValueError):
    """A wrong ``corpora.yaml``; the message names the file (and line), the corpus and the key."""


class OptionError(ValueError):
    """Raised by a format's check: ``key`` of the declaration is wrong, ``message`` says why and how to fix it."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Declaration:
    """One corpus of ``corpora.yaml`` as written (checked). ``splits``: split -> path under ``data/<name>/``."""

    name: str
    format: str
    kind: TaskKind
    splits: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    language: str = "en"
    fields: dict[str, Any] = field(default_factory=dict)
    header: bool = False
    source: str = DECLARATIONS
    ner_head: str = "bio"


@dataclass(frozen=True)
class Format:
    """A generic reader: ``read(declaration, root, *, splits, lenient) -> Corpus``; ``check(declaration)`` raises
    OptionError for format-specific keys (labels syntax, fields, header) before anything is read."""

    name: str
    kinds: tuple[TaskKind, ...]
    read: Callable[..., Corpus]
    check: Callable[[Declaration], None]


FORMATS: Registry[Format] = Registry("corpus format", load=load_modules)


@dataclass(frozen=True)
class DeclaredReader:
    """The reader of a declared corpus: its format's reader bound to its declaration."""

    declaration: Declaration
    format: Format

    def __call__(self, root: Path, *, splits: Sequence[str] | None = None, lenient: bool = False) -> Corpus:
        known = tuple(self.declaration.splits)
        splits = known if splits is None else tuple(splits)
        check_splits(self.declaration.name, splits, known)
        return self.format.read(self.declaration, Path(root), splits=splits, lenient=lenient)


@dataclass(frozen=True)
class RenamedReader:
    """A built-in reader used for a declared corpus (``format: i2b2-2010``): its corpus takes the declared name."""

    name: str
    read: Callable[..., Corpus]

    def __call__(self, root: Path, **options: Any) -> Corpus:
        return replace(self.read(root, **options), name=self.name)


def project_root() -> Path:
    """The project whose corpora.yaml counts: ``MTCLIN_PROJECT_DIR`` when set, else the working directory (where
    ``dvc repro`` runs the stages)."""
    return Path(os.environ.get("MTCLIN_PROJECT_DIR") or Path.cwd())


def declarations_file(project_dir: Path | None = None) -> Path:
    return Path(project_dir if project_dir is not None else project_root()) / DECLARATIONS


_CACHE: dict[Path, tuple[tuple[int, int], dict[str, CorpusInfo]]] = {}


def declared_corpora(project_dir: Path | None = None) -> dict[str, CorpusInfo]:
    """The corpora declared in the project's corpora.yaml, in file order ({} without the file). Read again
    whenever the file changes."""
    path = declarations_file(project_dir).absolute()
    if not path.is_file():
        return {}
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    if path not in _CACHE or _CACHE[path][0] != stamp:
        _CACHE[path] = (stamp, {d.name: corpus_info_of(d) for d in load_declarations(path)})
    return _CACHE[path][1]


def corpus_info_of(declaration: Declaration) -> CorpusInfo:
    """The registry entry of a checked declaration."""
    if declaration.format in BUILTIN:
        builtin = BUILTIN.get(declaration.format)
        return replace(builtin, name=declaration.name, read=RenamedReader(declaration.name, builtin.read),
                       paper_order=None, sample=None, language=declaration.language,
                       declared_in=declaration.source, ner_head=declaration.ner_head)
    return CorpusInfo(
        declaration.name, declaration.kind, declaration.labels,
        DeclaredReader(declaration, FORMATS.get(declaration.format)), tuple(declaration.splits), (),
        None, declaration.language, None, declaration.format, declaration.source, declaration.ner_head)


# -- reading and checking corpora.yaml ---------------------------------------------------------------------------

def load_declarations(path: Path) -> list[Declaration]:
    """Every declaration of ``path``, checked; DeclarationError at the first wrong one."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise DeclarationError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', None) or err})") from None
    lines = _key_lines(node)

    def fail(keys: tuple[str, ...], message: str) -> DeclarationError:
        line = next((lines[keys[:n]] for n in range(len(keys), 0, -1) if keys[:n] in lines), None)
        where = f"{path}:{line}" if line else str(path)
        return DeclarationError(f"{where}: {'.'.join(keys)}: {message}" if keys else f"{where}: {message}")

    if data is None:
        return []
    if not isinstance(data, dict):
        raise fail((), "expected a mapping with one key, 'corpora:', holding one declaration per corpus")
    for key in data:
        if key != "corpora":
            raise fail((str(key),), "unknown top-level key; declarations go under 'corpora:' "
                                    "(corpora: {<name>: {format: ..., kind: ..., splits: ...}})")
    corpora = data.get("corpora") or {}
    if not isinstance(corpora, dict):
        raise fail(("corpora",), "expected a mapping of corpus name -> declaration")
    names = [str(key.value) for top, body in node.value if top.value == "corpora"
             and isinstance(body, yaml.MappingNode) for key, _ in body.value]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise fail(("corpora", twice), "declared twice; keep one declaration per corpus")
    out = []
    for name, body in corpora.items():
        try:
            out.append(_declaration(str(name), body, str(path)))
        except OptionError as err:
            raise fail(("corpora", str(name), *(err.key.split(".") if err.key else [])), str(err)) from None
    return out


def _key_lines(node: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """The 1-based line of every mapping key of a composed YAML document, by its key path."""
    out: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            out[path] = key.start_mark.line + 1
            out.update(_key_lines(value, path))
    return out


def _declaration(name: str, body: Any, source: str) -> Declaration:
    if not _NAME.fullmatch(name):
        raise OptionError("", "a corpus name is 1-64 letters, digits, '_' or '-' (it names data/<name>/, "
                              "processed/<name>/ and the DVC stage declared@<name>)")
    if name in BUILTIN:
        raise OptionError("", f"{name!r} is the name of a built-in corpus; give yours another name "
                              f"(e.g. {name}-local) and, to use the built-in reader, 'format: {name}'")
    if not isinstance(body, dict):
        raise OptionError("", "expected a mapping (format: ..., kind: ..., splits: ...)")
    unknown = [str(k) for k in body if k not in KEYS]
    if unknown:
        raise OptionError(unknown[0], f"unknown key; known: {', '.join(KEYS)}")
    fmt = body.get("format")
    formats = sorted(FORMATS.names()) + sorted(info.name for info in BUILTIN.values())  # not import order
    if not isinstance(fmt, str) or (fmt not in FORMATS and fmt not in BUILTIN):
        raise OptionError("format", f"{'missing' if fmt is None else repr(fmt) + ' is unknown'}; one of "
                                    f"{', '.join(formats)}")
    language = body.get("language", "en")
    if not isinstance(language, str) or not language.strip():
        raise OptionError("language", "expected a language code such as en or fr")
    if fmt in BUILTIN:
        declaration = _builtin_format(name, body, fmt,
                                      language if "language" in body else BUILTIN.get(fmt).language, source)
        return replace(declaration, ner_head=_ner_head(body, declaration.kind))
    reader = FORMATS.get(fmt)
    kind = body.get("kind", reader.kinds[0] if len(reader.kinds) == 1 else None)
    if kind not in KINDS:
        raise OptionError("kind", f"{'missing' if kind is None else repr(kind) + ' is unknown'}; one of "
                                  f"{', '.join(k for k in KINDS if k in reader.kinds)} for format {fmt!r}")
    if kind not in reader.kinds:
        raise OptionError("kind", f"format {fmt!r} reads {' or '.join(reader.kinds)} corpora, not {kind}")
    declaration = Declaration(name, fmt, kind, _splits(body.get("splits")), _labels(body.get("labels"), kind),
                              language, dict(body.get("fields") or {}), body.get("header", False), source,
                              _ner_head(body, kind))
    if "fields" in body and not isinstance(body["fields"], dict):
        raise OptionError("fields", "expected a mapping of role (a, b, label, score, id) -> field")
    reader.check(declaration)
    return declaration


def _builtin_format(name: str, body: dict, fmt: str, language: str, source: str) -> Declaration:
    info = BUILTIN.get(fmt)
    for key in ("splits", "labels", "fields", "header"):
        if key in body:
            raise OptionError(key, f"the built-in {fmt} reader finds its files by their official names and knows "
                                   "its labels; remove this key (or use a generic format: brat, jsonl-pairs, "
                                   "tsv-pairs)")
    if body.get("kind", info.kind) != info.kind:
        raise OptionError("kind", f"the {fmt} reader reads {info.kind} corpora, not {body['kind']}")
    return Declaration(name, fmt, info.kind, {s: "" for s in info.splits}, info.labels, language, source=source)


def _ner_head(body: dict, kind: TaskKind) -> str:
    from mtclin.tasks import NER_HEADS

    value = body.get("ner_head", "bio")
    if kind != "ner" and "ner_head" in body:
        raise OptionError("ner_head", f"a {kind} corpus has no NER head; remove this key")
    if value not in NER_HEADS:
        raise OptionError("ner_head", f"{value!r} is unknown; one of {', '.join(NER_HEADS)}")
    return value


def _splits(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise OptionError("splits", "missing or not a mapping; expected e.g. {train: train, dev: dev, test: test} "
                                    "(folders or files under data/<name>/; dev is optional)")
    for split in value:
        if split not in SPLIT_ORDER:
            raise OptionError(f"splits.{split}", f"unknown split; known: {', '.join(SPLIT_ORDER)}")
    for split in ("train", "test"):
        if split not in value:
            raise OptionError("splits", f"no {split} split; train and test are required (dev is optional)")
    paths: dict[str, str] = {}
    for split in SPLIT_ORDER:
        if split not in value:
            continue
        path = value[split]
        parts = PurePosixPath(path).parts if isinstance(path, str) else ()
        if not parts or PurePosixPath(path).is_absolute() or ".." in parts or "\\" in path:
            raise OptionError(f"splits.{split}", "expected a relative path (with '/') of a folder or file under "
                                                 "data/<name>/, without '..'")
        paths[split] = PurePosixPath(path).as_posix()
    for split, path in paths.items():
        for other, inside in paths.items():
            if other != split and (inside == path or PurePosixPath(inside).is_relative_to(path)):
                raise OptionError(f"splits.{other}", f"{inside!r} lies in the {split} split's {path!r}; every "
                                                     "split needs its own folder or file")
    return paths


def _labels(value: Any, kind: TaskKind) -> tuple[str, ...]:
    if value is None:
        return ()
    if kind == "sts":
        raise OptionError("labels", "an sts corpus has scores (0-5), not labels; remove this key")
    if not isinstance(value, list) or not value:
        raise OptionError("labels", "expected a non-empty list, e.g. [Disease, Chemical] (or leave it out: the "
                                    "labels are then taken from train)")
    for label in value:
        if not isinstance(label, str) or not label.strip():
            raise OptionError("labels", f"every label must be a non-empty string (got {label!r}; quote values "
                                        "such as 'true' that YAML reads as another type)")
    if len(set(value)) != len(value):
        raise OptionError("labels", "a label is listed twice")
    return tuple(value)
