"""MedRQE (Ben Abacha & Demner-Fushman, AMIA 2016): recognising question entailment, read from the NLM release.

Layout: ``RQE_Train_8588_AMIA2016.xml`` (root ``<RQE-med-train>``) and ``RQE_Test_302_pairs_AMIA2016.xml`` (root
``<RQE-med-test>``) anywhere under the root, each a list of
``<pair pid="1" type="originalQ-shortQ" value="true"><chq>…</chq><faq>…</faq></pair>``.

Decisions on format ambiguities (checked against the real training file):
- Question text is stripped of the whitespace wrapping it (``\\n   …\\n``); inner whitespace is kept as is.
- The release escapes ``<``/``>`` twice (``&amp;gt;100,000``), so after XML parsing the text still holds
  ``&gt;``; the five XML entities left in the text are decoded once more.
- Text inside tags nested in ``<chq>``/``<faq>`` is kept (concatenated, like ``itertext``).
- ``value`` is matched case-insensitively and returned lower-case (the release uses ``true``/``false``).
- One question of a pair may be empty: training pair 5860 has a blank ``<faq>``, and the paper counts all 8,588
  pairs, so it is kept with ``b == ""``; a pair with both questions empty is a problem.
- ``type`` (``originalQ-shortQ`` / ``originalQ-shortRandQ``) is not checked; it restates ``value``.
- A file with the wrong root element is skipped whole in lenient mode: it is probably the other split's file,
  and training on the test set must not happen silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from xml.parsers import expat

from mtclin.corpora.files import find_file
from mtclin.corpora.problems import ProblemLog, read_text, shown
from mtclin.corpora.registry import SPLITS, check_splits, register
from mtclin.corpora.types import Corpus, Example, Pair

LABELS: tuple[str, ...] = ("false", "true")
# split -> (official file name, its root element)
FILES: dict[str, tuple[str, str]] = {
    "train": ("RQE_Train_8588_AMIA2016.xml", "RQE-med-train"),
    "test": ("RQE_Test_302_pairs_AMIA2016.xml", "RQE-med-test"),
}
QUESTIONS: tuple[str, ...] = ("chq", "faq")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


@register("medrqe", "nli", LABELS, paper_order=3, sample="mtclin.corpora.samples.medrqe:write")
def read(root: Path, *, splits: Sequence[str] = SPLITS, lenient: bool = False) -> Corpus:
    """Read the requested splits of MedRQE under ``root`` into ``Pair(id=pid, a=chq, b=faq, label=value)``
    in file order. Raises CorpusFormatError on the first problem unless ``lenient``; in lenient mode a split
    whose file is absent or unusable is reported and returned empty."""
    root = Path(root)
    log = ProblemLog(root, lenient)
    out: dict[str, list[Example]] = {}
    check_splits("medrqe", splits, tuple(FILES))
    for split in splits:
        name, root_tag = FILES[split]
        path = find_file(root, name, log)
        out[split] = []
        if path is None:
            log.report(root, "", f"split {split!r}: no {name} found under {root}")
            continue
        out[split] = list(_read_file(path, root_tag, log))
    return Corpus("medrqe", "nli", LABELS, out, log.problems)


@dataclass
class _RawPair:
    """A ``<pair>`` as parsed, before checks: its start line, attributes, question texts and odd children."""

    line: int
    attrs: dict[str, str]
    texts: dict[str, list[str]] = field(default_factory=dict)
    repeated: list[str] = field(default_factory=list)
    unexpected: list[tuple[str, int]] = field(default_factory=list)


def _read_file(path: Path, root_tag: str, log: ProblemLog) -> list[Pair]:
    """The checked pairs of one XML file, in file order."""
    text = read_text(path, log)
    if text is None:
        return []
    parsed = _parse(text, path, log)
    if parsed is None:
        return []
    tag, tag_line, raw_pairs, strays = parsed
    if tag != root_tag:
        log.report(path, tag_line, f"root element is <{tag}>, expected <{root_tag}>; is this the right file?")
        return []
    for stray, line in strays:
        log.report(path, line, f"unexpected element <{stray}> (only <pair> belongs under <{root_tag}>)")
    pairs: list[Pair] = []
    first_line: dict[str, int] = {}
    for raw in raw_pairs:
        pair = _check(raw, path, log)
        if pair is None:
            continue
        if pair.id in first_line:
            log.report(path, raw.line, f"duplicate pid {pair.id!r} (first at line {first_line[pair.id]})")
            continue
        first_line[pair.id] = raw.line
        pairs.append(pair)
    return pairs


def _parse(text: str, path: Path, log: ProblemLog) -> tuple[str, int, list[_RawPair], list[tuple[str, int]]] | None:
    """(root tag, its line, raw pairs, stray elements under the root with their lines), or None after
    reporting malformed XML. Uses expat directly because ElementTree keeps no line numbers."""
    parser = expat.ParserCreate(encoding="UTF-8")  # read_text already checked the bytes are UTF-8
    parser.buffer_text = True
    root: list[tuple[str, int]] = []
    pairs: list[_RawPair] = []
    strays: list[tuple[str, int]] = []
    depth = 0
    question: list[str] | None = None  # the text chunks of the <chq>/<faq> being read
    question_depth = 0
    in_pair = False  # whether the open element under the root is a <pair>

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, question, question_depth, in_pair
        depth += 1
        line = parser.CurrentLineNumber
        if depth == 1:
            root.append((tag, line))
        elif depth == 2:
            in_pair = tag == "pair"
            if in_pair:
                pairs.append(_RawPair(line, attrs))
            else:
                strays.append((tag, line))
        elif depth == 3 and in_pair:
            current = pairs[-1]
            if tag not in QUESTIONS:
                current.unexpected.append((tag, line))
            elif tag in current.texts:
                current.repeated.append(tag)
            else:
                question, question_depth = current.texts.setdefault(tag, []), depth

    def end(tag: str) -> None:
        nonlocal depth, question
        if question is not None and depth == question_depth:
            question = None
        depth -= 1

    def characters(data: str) -> None:
        if question is not None:
            question.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(text.encode("utf-8"), True)
    except expat.ExpatError as err:
        log.report(path, f"line {err.lineno}, column {err.offset + 1}", f"malformed XML: {expat.ErrorString(err.code)}")
        return None
    return root[0][0], root[0][1], pairs, strays


def _check(raw: _RawPair, path: Path, log: ProblemLog) -> Pair | None:
    """A Pair from a parsed ``<pair>``, or None after reporting what is wrong (never quoting question text)."""
    pid = raw.attrs.get("pid", "").strip()
    if not pid:
        log.report(path, raw.line, "<pair> without a pid attribute")
        return None
    value = raw.attrs.get("value")
    if value is None:
        log.report(path, raw.line, f"pair {pid!r}: no value attribute")
        return None
    if value.strip().lower() not in LABELS:
        log.report(path, raw.line, f"pair {pid!r}: unknown value {shown(value)}; expected true or false")
        return None
    if raw.unexpected:
        tag, line = raw.unexpected[0]
        log.report(path, line, f"pair {pid!r}: unexpected element <{tag}> (a pair holds <chq> and <faq>)")
        return None
    if raw.repeated:
        log.report(path, raw.line, f"pair {pid!r}: more than one <{raw.repeated[0]}>")
        return None
    missing = [tag for tag in QUESTIONS if tag not in raw.texts]
    if missing:
        log.report(path, raw.line, f"pair {pid!r}: no <{'> or <'.join(missing)}> element")
        return None
    chq, faq = (_clean("".join(raw.texts[tag])) for tag in QUESTIONS)
    if not chq and not faq:
        log.report(path, raw.line, f"pair {pid!r}: both questions are empty")
        return None
    return Pair(pid, chq, faq, label=value.strip().lower())


def _clean(text: str) -> str:
    """Strip the wrapping whitespace and undo the release's second level of entity escaping."""
    return _ENTITY.sub(lambda match: _ENTITIES[match.group(1)], text.strip())
