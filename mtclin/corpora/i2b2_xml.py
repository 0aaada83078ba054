"""Parsing shared by the i2b2 XML releases (2012 temporal relations, 2014 de-identification).

Both wrap a note as ``<Root><TEXT><![CDATA[...]]></TEXT><TAGS><TAG id=".." start=".." end=".." text=".."
.../>...</TAGS></Root>``. The note text is taken from the raw CDATA section (an XML parser would turn
``\\r\\n`` into ``\\n`` and shift offsets); the tags are read with expat so each one keeps its line number.
Several real 2012 files contain a bare ``&`` and are not well-formed: each ``&`` that does not start a valid
reference is replaced by a one-character placeholder before parsing (lines and columns stay valid) and put back
in attribute values afterwards.

Records re-saved by XML tools read the same: without a CDATA section (the text XML-escaped instead) the text is
the parsed character data, ``&amp;`` ``&lt;`` ``&gt;`` one character each as the offsets count them; attributes
may come in any order and the declaration may say ``encoding='utf8'`` (files are decoded as UTF-8 whatever it
says). Such a text has its line ends as the parser reports them (``\\r\\n`` becomes ``\\n``).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from mtclin.corpora.problems import ProblemLog, read_text
from mtclin.corpora.registry import check_splits
from mtclin.corpora.types import Corpus, Document, Example

# A private-use character, one character long so offsets and columns don't move; a file that already holds it
# gets the next private-use character it doesn't hold (else that character would come back as '&').
PLACEHOLDER = "\ue000"
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)")
_CDATA_TEXT = re.compile(r"<TEXT>\s*<!\[CDATA\[(.*?)\]\]>\s*</TEXT>", re.DOTALL)


@dataclass(frozen=True)
class Tag:
    """One child element of ``<TAGS>``: its name, attributes (``&`` restored) and line in the file."""

    name: str
    attrs: dict[str, str]
    line: int


@dataclass(frozen=True)
class I2b2Xml:
    """A parsed i2b2 XML file: the exact CDATA note text and the ``<TAGS>`` children in file order."""

    text: str
    tags: list[Tag]


def xml_files(root: Path, dir_parts: Sequence[str], pattern: str = "*.xml") -> list[Path]:
    """Files matching ``pattern`` directly inside every directory under ``root`` whose path ends with
    ``dir_parts`` (official directory names, whatever the nesting above them), sorted by relative path.
    Archive debris (``__MACOSX/``, ``._name`` resource forks) is left out."""
    parts = tuple(dir_parts)
    found: set[Path] = set()
    for directory in Path(root).rglob(parts[-1]):
        if directory.is_dir() and directory.parts[-len(parts):] == parts:
            found.update(p for p in directory.glob(pattern) if p.is_file())
    keep = [p for p in found if not _is_debris(p.relative_to(root))]
    return sorted(keep, key=lambda p: p.relative_to(root).as_posix())


def _is_debris(rel: Path) -> bool:
    return "__MACOSX" in rel.parts or rel.name.startswith("._")


def document_id(path: Path, root: Path) -> str:
    """The document id: the file's path relative to the corpus root, POSIX, without its extension."""
    return Path(path).relative_to(root).with_suffix("").as_posix()


def same_text(a: str, b: str) -> bool:
    """Whether an annotation's ``text=`` matches its span; XML attribute normalisation turns newlines and
    tabs into spaces, so whitespace runs compare equal."""
    return a.split() == b.split()


def read_i2b2_xml(path: Path, root_name: str, log: ProblemLog) -> I2b2Xml | None:
    """Read one i2b2 XML file: its CDATA text and ``<TAGS>`` children. Reports (and returns None for) files
    that are empty, not UTF-8, malformed XML, rooted elsewhere, or lack ``<TEXT>`` or ``<TAGS>``."""
    raw = read_text(path, log)
    if raw is None:
        return None
    placeholder = next(c for c in map(chr, range(ord(PLACEHOLDER), 0xF900)) if c not in raw)
    safe = _BARE_AMP.sub(placeholder, raw)
    parser = xml.parsers.expat.ParserCreate()
    stack: list[str] = []
    tags: list[Tag] = []
    seen: set[str] = set()
    text_chunks: list[str] = []
    roots: list[tuple[str, int]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if not stack:
            roots.append((name, parser.CurrentLineNumber))
        if stack and stack[-1] == "TAGS" and len(stack) == 2:
            restored = {k: v.replace(placeholder, "&") for k, v in attrs.items()}
            tags.append(Tag(name, restored, parser.CurrentLineNumber))
        if len(stack) == 1:
            seen.add(name)
        stack.append(name)

    def end(name: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack[-1:] == ["TEXT"] and len(stack) == 2:
            text_chunks.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(safe, True)
    except xml.parsers.expat.ExpatError as err:
        log.report(path, f"line {err.lineno} (column {err.offset + 1})",
                   f"malformed XML: {xml.parsers.expat.ErrorString(err.code)}")
        return None
    if roots[0][0] != root_name:
        log.report(path, roots[0][1], f"root element is <{roots[0][0]}>, expected <{root_name}>")
        return None
    for required in ("TEXT", "TAGS"):
        if required not in seen:
            log.report(path, "", f"no <{required}> element under <{root_name}>")
            return None
    match = _CDATA_TEXT.search(raw)
    # Offsets count the CDATA characters as stored; without a CDATA section fall back to the parsed text.
    text = match.group(1) if match else "".join(text_chunks).replace(placeholder, "&")
    return I2b2Xml(text, tags)


def span_error(text: str, start: int, end: int, expected: str | None) -> str | None:
    """Why the half-open span ``[start, end)`` can't be used for an annotation whose ``text=`` is
    ``expected`` (None when it can). Messages give offsets and lengths, never the note text."""
    if end <= start:
        return f"reversed or empty span {start}-{end} (end <= start)"
    if start < 0 or end > len(text):
        return f"span {start}-{end} lies outside the text ({len(text)} characters)"
    if expected is not None and not same_text(text[start:end], expected):
        return (f"text= ({len(expected)} characters) does not match the span {start}-{end} "
                f"({end - start} characters)")
    return None


def int_attr(tag: Tag, name: str) -> int | None:
    """An integer attribute, or None when absent or not an integer."""
    value = tag.attrs.get(name, "").strip()
    return int(value) if re.fullmatch(r"-?\d+", value) else None


def unique_ids(tags: Sequence[Tag], path: Path, log: ProblemLog) -> list[Tag]:
    """``tags`` without those whose ``id`` an earlier tag already used (each reported; the first is kept, as
    for BRAT ``T`` ids). Tags without an id are kept for the caller to report."""
    first_line: dict[str, int] = {}
    kept = []
    for tag in tags:
        ident = tag.attrs.get("id", "")
        if ident and ident in first_line:
            log.report(path, tag.line, f"<{tag.name}> {ident}: id already used by the tag at line "
                                       f"{first_line[ident]}; annotation skipped")
            continue
        first_line.setdefault(ident, tag.line)
        kept.append(tag)
    return kept


def read_xml_corpus(
    name: str,
    labels: tuple[str, ...],
    root: Path,
    splits: Sequence[str],
    lenient: bool,
    split_dirs: Mapping[str, Sequence[Sequence[str]]],
    read_document: Callable[[Path, Path, ProblemLog], Document | None],
) -> Corpus:
    """Read the requested ``splits`` of an i2b2 XML corpus: ``split_dirs`` gives each split's official
    directories (path endings), ``read_document(path, root, log)`` reads one file."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    check_splits(name, splits, tuple(split_dirs))
    out: dict[str, list[Example]] = {}
    for split in splits:
        out[split] = []
        paths = sorted({p for dirs in split_dirs[split] for p in xml_files(root, dirs)},
                       key=lambda p: p.relative_to(root).as_posix())
        if not paths:
            where = " or ".join("/".join(d) + "/*.xml" for d in split_dirs[split])
            log.report(root, "", f"split {split!r}: no {name} XML files ({where}) found under {root}")
            continue
        for path in paths:
            document = read_document(path, root, log)
            if document is not None:
                out[split].append(document)
    return Corpus(name, "ner", labels, out, log.problems)
