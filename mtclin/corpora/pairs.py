"""The generic ``jsonl-pairs`` and ``tsv-pairs`` formats: a declared corpus of sentence pairs, one file per split.

Each split is a file under ``data/<name>/`` (``splits:`` in corpora.yaml). ``fields:`` says where each part of a
pair is: ``a`` and ``b`` (the sentences), ``label`` (nli) or ``score`` (sts, 0-5) and, optionally, ``id``:

- ``jsonl-pairs``: JSON field names, one object per line (:mod:`mtclin.corpora.jsonl`: blank lines skipped, BOM
  dropped); defaults ``a: sentence1``, ``b: sentence2``, ``label: label`` / ``score: score``. A score may be a JSON
  number or a numeric string; an id a string or an integer.
- ``tsv-pairs``: 0-based column numbers, or column names with ``header: true`` (the first row names the columns);
  defaults ``a: 0``, ``b: 1``, ``label``/``score: 2``. Quoting as real files have it (:mod:`mtclin.corpora.tsv`,
  shared with n2c2-2019); every row must have as many fields as the header (or, without one, the first row).

Without ``id`` a pair's id is ``<split>-<line>``; with it, ids must be unique within a split. Sentences are returned
as stored; an empty (whitespace-only) sentence is a problem. Labels: the declared ones, or those found in train,
sorted (a dev or test label that train lacks is then a problem). Messages give lines, field names and lengths,
never sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from mtclin.corpora import jsonl, tsv
from mtclin.corpora.declared import FORMATS, Declaration, Format, OptionError
from mtclin.corpora.problems import ProblemLog, shown
from mtclin.corpora.types import Corpus, Pair

DEFAULT_FIELDS: dict[str, dict[str, Any]] = {
    "jsonl-pairs": {"a": "sentence1", "b": "sentence2", "label": "label", "score": "score"},
    "tsv-pairs": {"a": 0, "b": 1, "label": 2, "score": 2},
}
MAX_LABEL = 40  # characters; a longer "label" is a sentence in the wrong column


def roles(declaration: Declaration) -> dict[str, Any]:
    """Role -> field (JSON name or TSV column) of a declaration: its ``fields`` over the format's defaults."""
    target = "label" if declaration.kind == "nli" else "score"
    defaults = {k: v for k, v in DEFAULT_FIELDS[declaration.format].items() if k in ("a", "b", target)}
    return defaults | dict(declaration.fields)


def check(declaration: Declaration) -> None:
    """The pair-specific checks of a declaration: known roles, field names / columns of the right type."""
    target = "label" if declaration.kind == "nli" else "score"
    for role in declaration.fields:
        if role not in ("a", "b", "id", target):
            raise OptionError(f"fields.{role}", f"unknown role for an {declaration.kind} corpus; known: a, b, "
                                                f"{target}, id")
    tsv_format = declaration.format == "tsv-pairs"
    if declaration.header and not tsv_format:
        raise OptionError("header", "only tsv-pairs has a header option")
    if not isinstance(declaration.header, bool):
        raise OptionError("header", "expected true or false")
    fields = roles(declaration)
    for role, where in fields.items():
        named = isinstance(where, str) and bool(where.strip())
        numbered = isinstance(where, int) and not isinstance(where, bool) and where >= 0
        if not tsv_format:
            ok, wanted = named, "a JSON field name"
        elif declaration.header:
            ok, wanted = named or numbered, "a header name or a 0-based column number"
        else:
            ok, wanted = numbered, "a 0-based column number (or a name, with header: true)"
        if not ok:
            raise OptionError(f"fields.{role}", f"expected {wanted}, got {where!r}")
    if len(set(map(str, fields.values()))) != len(fields):
        raise OptionError("fields", "two roles point at the same field")


def _label(value: Any, labels: tuple[str, ...] | None, path: Path, number: int, log: ProblemLog,
           where: str) -> str | None:
    """A checked class label: one of ``labels`` (None: any short label, train fixing the corpus's labels)."""
    if not isinstance(value, str) or not value.strip():
        log.report(path, number, f"{where} is empty or not text")
        return None
    value = value.strip()
    if len(value) > MAX_LABEL:
        log.report(path, number, f"{where} has {len(value)} characters: is it the label's field?")
        return None
    if labels is not None and value not in labels:
        log.report(path, number, f"unknown label {shown(value)} in {where}; expected one of {', '.join(labels)}")
        return None
    return value


def _pair(values: dict[str, Any], declaration: Declaration, split: str, labels: tuple[str, ...] | None,
          path: Path, number: int, log: ProblemLog) -> Pair | None:
    """The checked pair of one record (``values``: role -> raw value from the file), or None after a report."""
    names = roles(declaration)
    for role in ("a", "b"):
        if not isinstance(values[role], str) or not values[role].strip():
            log.report(path, number, f"sentence {role} ({_name(names[role])}) is empty or not text")
            return None
    ident = f"{split}-{number}"
    if "id" in names:
        raw = values["id"]
        if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).strip():
            log.report(path, number, f"id ({_name(names['id'])}) is empty or neither text nor an integer")
            return None
        ident = str(raw).strip()
    if declaration.kind == "nli":
        label = _label(values["label"], labels, path, number, log, f"label ({_name(names['label'])})")
        return None if label is None else Pair(ident, values["a"], values["b"], label=label)
    raw = values["score"]
    if isinstance(raw, str):
        score = tsv.score(raw, path, number, log)
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        score = tsv.checked_score(float(raw), path, number, log)
    else:
        log.report(path, number, f"score ({_name(names['score'])}) is not a number")
        return None
    return None if score is None else Pair(ident, values["a"], values["b"], score=score)


def _name(field: Any) -> str:
    return f"column {field}" if isinstance(field, int) else f"field {field!r}"


def _jsonl_records(path: Path, declaration: Declaration, log: ProblemLog) -> list[tuple[int, dict[str, Any]]]:
    names = roles(declaration)
    out = []
    for number, record in jsonl.records(path, log):
        missing = [name for name in names.values() if name not in record]
        if missing:
            log.report(path, number, f"missing field(s) {', '.join(map(repr, missing))} (corpora.yaml: "
                                     f"corpora.{declaration.name}.fields)")
            continue
        out.append((number, {role: record[name] for role, name in names.items()}))
    return out


def _tsv_records(path: Path, declaration: Declaration, log: ProblemLog) -> list[tuple[int, dict[str, Any]]]:
    rows = tsv.rows(path, log)
    if not rows:
        return []
    names = roles(declaration)
    if declaration.header:
        head, rows = rows[0], rows[1:]
        columns = head.fields or []
        for role, name in names.items():
            if isinstance(name, str) and name not in columns:
                log.report(path, head.line, f"the header has no column {name!r} ({role}; corpora.yaml: "
                                            f"corpora.{declaration.name}.fields.{role}); it has {len(columns)}")
                return []
        names = {role: columns.index(name) if isinstance(name, str) else name for role, name in names.items()}
        width = len(columns)
    else:
        width = next((len(row.fields) for row in rows if row.fields and "".join(row.fields).strip()), 0)
    if max(names.values()) >= width:
        role = max(names, key=names.get)
        log.report(path, rows[0].line if rows else 1, f"{role} is column {names[role]} but rows have {width} "
                                                      f"fields (corpora.yaml: corpora.{declaration.name}.fields)")
        return []
    out = []
    for row in rows:
        if row.fields is None:
            continue  # malformed quoting, already reported
        if not "".join(row.fields).strip():
            log.report(path, row.line, "blank line (expected a pair)")
            continue
        if len(row.fields) != width:
            span = "" if row.last_line == row.line else (
                f"; a quoted field runs from line {row.line} to line {row.last_line}: check for an unbalanced quote")
            log.report(path, row.line, f"{len(row.fields)} tab-separated fields, expected {width}{span}")
            continue
        out.append((row.line, {role: row.fields[column] for role, column in names.items()}))
    return out


def _split_file(root: Path, declaration: Declaration, split: str, log: ProblemLog) -> Path | None:
    relative = declaration.splits[split]
    path = root / relative
    if not path.is_file():
        what = "is a folder, not a file" if path.exists() else "does not exist"
        log.report(root, "", f"split {split!r}: {relative} {what} under {root} (corpora.yaml: "
                             f"corpora.{declaration.name}.splits.{split})")
        return None
    return path


def read(declaration: Declaration, root: Path, *, splits: Sequence[str], lenient: bool = False) -> Corpus:
    """The requested splits of a declared pair corpus under ``root``, each in file order; train is read first
    (without declared labels it fixes them). Raises CorpusFormatError on the first problem unless ``lenient``."""
    log = ProblemLog(root, lenient)
    labels: tuple[str, ...] | None = declaration.labels or None
    records = _jsonl_records if declaration.format == "jsonl-pairs" else _tsv_records
    out: dict[str, list[Pair]] = {}
    for split in sorted(splits, key=lambda s: s != "train"):
        path = _split_file(root, declaration, split, log)
        pairs: list[Pair] = []
        first_line: dict[str, int] = {}
        for number, values in records(path, declaration, log) if path is not None else []:
            pair = _pair(values, declaration, split, labels, path, number, log)
            if pair is None:
                continue
            if pair.id in first_line:
                log.report(path, number, f"duplicate id {pair.id[:40]!r} (first at line {first_line[pair.id]})")
                continue
            first_line[pair.id] = number
            pairs.append(pair)
        out[split] = pairs
        if split == "train" and labels is None and declaration.kind == "nli":
            labels = tuple(sorted({p.label for p in pairs if p.label is not None}))
    if labels is None:  # sts, or dev / test read alone
        labels = () if declaration.kind == "sts" else tuple(
            sorted({p.label for ps in out.values() for p in ps if p.label is not None}))
    return Corpus(declaration.name, declaration.kind, labels, {split: out[split] for split in splits}, log.problems)


FORMATS.add("jsonl-pairs", Format("jsonl-pairs", ("nli", "sts"), read, check))
FORMATS.add("tsv-pairs", Format("tsv-pairs", ("nli", "sts"), read, check))
