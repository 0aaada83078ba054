"""The contract every registered corpus passes, built-in or declared in a project's corpora.yaml.

Parametrised over every built-in corpus (its sample corpus, written in the official layout) and the declared
fixture corpora (``fixtures/declared``: BRAT; ``fixtures/declared-pairs``: jsonl and tsv pairs): the reader returns
exactly the gold written, reads deterministically, ignores archive debris, answers an unknown split and a missing one
the same way as every other reader, never writes a raw file and never puts note text in a message. What is
particular to one format or release stays in that reader's own test file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from mtclin.corpora.brat import entity_sort_key
from mtclin.corpora.problems import CorpusFormatError
from mtclin.corpora.registry import BUILTIN, CORPORA, DEV, builtin_corpora, corpus_info, read_corpus
from mtclin.corpora.samples import write_sample
from mtclin.corpora.samples.common import CANARY
from mtclin.corpora.types import Corpus, Document, Entity, Pair

FIXTURES = Path(__file__).parent / "fixtures"
DECLARED = {"ward-notes": FIXTURES / "declared", "qa-pairs": FIXTURES / "declared-pairs",
            "sim-pairs": FIXTURES / "declared-pairs"}
BUILTINS = tuple(info.name for info in builtin_corpora())
ALL = BUILTINS + tuple(DECLARED)


@dataclass(frozen=True)
class Release:
    """A corpus on disk as a user has it: ``root`` = data/<name>/, ``project`` holding its corpora.yaml (None for a
    built-in), and the gold the reader must return."""

    name: str
    root: Path
    project: Path | None
    gold: dict[str, list]

    def read(self, root: Path | None = None, **options) -> Corpus:
        return read_corpus(self.name, root or self.root, project_dir=self.project, **options)

    @property
    def info(self):
        return corpus_info(self.name, self.project)


def _declared_gold(name: str, fixture: Path, root: Path) -> dict[str, list]:
    gold = json.loads((fixture / "gold.json").read_text(encoding="utf-8"))[name]
    if name == "ward-notes":
        return {split: [Document(d["id"], (root / f"{d['id']}.txt").read_bytes().decode("utf-8"),
                                 tuple(sorted((Entity(i, t, tuple(map(tuple, f))) for i, t, f in d["entities"]),
                                              key=entity_sort_key)))
                        for d in docs] for split, docs in gold.items()}
    kind = corpus_info(name, root.parents[1]).kind
    return {split: [Pair(i, a, b, label=y) if kind == "nli" else Pair(i, a, b, score=y) for i, a, b, y in rows]
            for split, rows in gold.items()}


def make_release(name: str, where: Path) -> Release:
    """Write the corpus's sample (built-in) or copy its fixture into a project (declared) under ``where``."""
    if name in BUILTIN:
        root = where / "data" / name
        return Release(name, root, None, write_sample(name, root, seed=0))
    fixture = DECLARED[name]
    project = where / "project"
    project.mkdir(parents=True)
    shutil.copy(fixture / "corpora.yaml", project / "corpora.yaml")
    shutil.copytree(fixture / name, project / "data" / name)
    return Release(name, project / "data" / name, project, _declared_gold(name, fixture, project / "data" / name))


@pytest.fixture(scope="module", params=ALL)
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Release:
    return make_release(request.param, tmp_path_factory.mktemp(request.param))


def _copy(release: Release, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(release.root, root)
    return root


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _texts(corpus_gold: dict[str, list]) -> str:
    parts = [x.text if isinstance(x, Document) else f"{x.a}\n{x.b}" for xs in corpus_gold.values() for x in xs]
    return "\n".join(parts)


# -- the declaration --------------------------------------------------------------------------------------------

def test_the_paper_order_is_declared_once_and_every_builtin_has_a_sample():
    assert CORPORA == ("n2c2-2019", "mednli", "medrqe", "n2c2-2018", "i2b2-2014", "i2b2-2012", "i2b2-2010",
                       "quaero-2014")  # Table 1/2 of the paper, derived from the declarations
    orders = [info.paper_order for info in builtin_corpora()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert all(info.sample_writer() is not None for info in builtin_corpora())


@pytest.mark.parametrize("name", ALL)
def test_declaration_is_complete(name: str, tmp_path: Path):
    release = make_release(name, tmp_path) if name in DECLARED else None
    info = corpus_info(name, release.project if release else None)
    assert info.name == name and info.kind in ("ner", "nli", "sts") and info.language
    assert {"train", "test"} <= set(info.splits) <= {"train", DEV, "test"} and set(info.optional) <= {DEV}
    assert len(set(info.labels)) == len(info.labels) and (info.kind != "sts" or not info.labels)
    assert info.builtin == (name in BUILTIN) and (info.paper_order is not None) == info.builtin


# -- what a reader returns --------------------------------------------------------------------------------------

def test_round_trip_returns_exactly_the_gold_and_writes_nothing(release: Release):
    before = _snapshot(release.root)
    corpus = release.read()
    assert _snapshot(release.root) == before  # raw files are never written (nor any file added)
    assert corpus.problems == []
    assert (corpus.name, corpus.kind) == (release.name, release.info.kind)
    assert list(corpus.splits) == list(release.info.splits)
    for split in release.info.splits:
        assert corpus.splits[split] == release.gold.get(split, []), split
    labels = release.info.labels
    if release.info.labels_from_train:  # taken from train, sorted
        train = corpus.splits["train"]
        labels = tuple(sorted({e.type for d in train for e in d.entities} if release.info.kind == "ner"
                              else {p.label for p in train}))
    assert corpus.labels == labels and bool(labels) == (release.info.kind != "sts")


def test_only_the_requested_splits_are_read(release: Release):
    for split in release.info.splits:
        corpus = release.read(splits=(split,))
        assert list(corpus.splits) == [split] and corpus.splits[split] == release.gold.get(split, [])
        assert corpus.problems == []


def test_reading_is_deterministic_whatever_the_file_order(release: Release, tmp_path: Path):
    # the same release copied file by file in reverse order (directory listings then come back differently)
    copy = tmp_path / "reversed"
    for path in sorted(release.root.rglob("*"), reverse=True):
        if path.is_file():
            target = copy / path.relative_to(release.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    assert release.read() == release.read() == release.read(copy)


def test_archive_debris_is_ignored(release: Release, tmp_path: Path):
    root = _copy(release, tmp_path)
    for path in [p for p in root.rglob("*") if p.is_file()]:
        relative = path.relative_to(root)
        debris = root / "__MACOSX" / relative.parent / f"._{path.name}"  # what macOS archives add
        debris.parent.mkdir(parents=True, exist_ok=True)
        debris.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \xff\xfe")
        path.with_name(f"._{path.name}").write_bytes(b"\x00\x05\x16\x07\xff")  # resource forks beside the files
        (path.parent / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    assert release.read(root) == release.read()


# -- splits it does not know, splits the release lacks ---------------------------------------------------------

def test_an_unknown_split_is_a_value_error_naming_the_known_ones(release: Release):
    known = ", ".join(release.info.splits)
    for unknown in ("validation", *([] if DEV in release.info.splits else [DEV])):
        with pytest.raises(ValueError, match=rf"^unknown split '{unknown}' for {release.name}; known: {known}$"):
            release.read(splits=(unknown,))
        with pytest.raises(ValueError, match=rf"^unknown split '{unknown}' for {release.name}"):
            release.info.read(release.root, splits=(unknown,))  # the reader itself, called directly


@pytest.mark.parametrize("name", ALL)
def test_a_missing_split_is_a_problem_named_against_the_root(name: str, tmp_path: Path):
    release = make_release(name, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    info = release.info
    required = [split for split in info.splits if split not in info.optional]
    with pytest.raises(CorpusFormatError) as err:
        release.read(empty)
    assert (err.value.problem.file, err.value.problem.message.split(":")[0]) == (".", f"split '{required[0]}'")
    corpus = release.read(empty, lenient=True)
    assert corpus.splits == {split: [] for split in info.splits}
    assert [(p.file, p.message.split(":")[0]) for p in corpus.problems] == [(".", f"split '{s}'") for s in required]
    for split in info.optional:  # a release without its optional dev: empty, no problem, even in strict mode
        assert release.read(empty, splits=(split,)) == Corpus(name, info.kind, corpus.labels, {split: []}, [])


# -- no note text in any message --------------------------------------------------------------------------------

def _foreign_lines(label: str) -> list[str]:
    """Lines shaped like each format's records (TSV row, BRAT text-bound, i2b2 concept and tags, JSON), whose text
    fields hold the canary: a reader that quoted what it could not use would show it."""
    text = f"{CANARY} {CANARY}"
    return [f"{text}\t{text}\t{text}", f"{text}\t{text}", f"T999\t{label} 0 5\t{text}",
            f'c="{text}" 1:0 1:1||t="{label}"', f'<EVENT id="E999" start="1" end="5" text="{text}" type="{label}" />',
            f'<DATE id="P999" start="1" end="5" text="{text}" TYPE="{label}" comment="" />',
            f'<pair pid="999" value="{text}"><chq>{text}</chq></pair>', json.dumps({"a": text, "b": text}), text]


def _note_words_to_canary(content: str, notes: str, protected: set[str]) -> str:
    """Every word of the notes / sentences (4+ letters) replaced by the canary where it occurs in ``content``: the
    spans' texts in annotation files, the notes' texts in the others. Labels, element and attribute names stay."""
    words = set(re.findall(r"[^\W\d_]{4,}", notes))
    return re.sub(r"[^\W\d_]{4,}", lambda m: CANARY if m[0] in words and m[0].lower() not in protected else m[0],
                  content)


def _damages(root: Path, notes: str, labels: tuple[str, ...]) -> list[tuple[Path, bytes]]:
    """(file, damaged content) for the first two files of each kind: foreign lines in the middle, the file cut in
    half, the notes' words replaced by the canary."""
    by_suffix: dict[str, list[Path]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        by_suffix.setdefault(path.suffix, []).append(path)
    out = []
    for path in [p for paths in by_suffix.values() for p in paths[:2]]:
        data = path.read_bytes()
        lines = data.split(b"\n")
        foreign = "\n".join(_foreign_lines(labels[0] if labels else "X")).encode()
        out.append((path, b"\n".join(lines[: len(lines) // 2] + [foreign] + lines[len(lines) // 2:])))
        out.append((path, data[: len(data) // 2]))
        content = data.decode("utf-8")
        names = re.findall(r"</?([\w-]+)|([\w-]+)=", content)  # element and attribute names
        structure = {name.lower() for pair in names for name in pair if name}
        protected = {label.lower() for label in labels} | structure
        out.append((path, _note_words_to_canary(content, notes, protected).encode("utf-8")))
    return out


def test_no_note_text_in_any_message(release: Release, tmp_path: Path):
    root = _copy(release, tmp_path)
    notes = _texts(release.gold)
    corpus = release.read()
    # the corpus's vocabulary (entity labels, assertion values, relation types) is no note text: messages may name it
    labels = corpus.labels + corpus.assertion_values + corpus.relation_types
    checked = 0
    for path, damaged in _damages(root, notes, labels):
        original = path.read_bytes()
        path.write_bytes(damaged)
        messages = []
        try:
            messages += [str(p) for p in release.read(root, lenient=True).problems]
            try:
                release.read(root)
            except CorpusFormatError as err:
                messages.append(str(err))
        finally:
            path.write_bytes(original)
        for message in messages:
            assert CANARY not in message, message
            leaked = [message[i:i + 24] for i in range(len(message) - 23) if message[i:i + 24] in notes]
            assert not leaked, (message, leaked)
        checked += len(messages)
    assert checked  # the damages were noticed


# -- sample corpora ---------------------------------------------------------------------------------------------

def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", BUILTINS)
def test_sample_is_deterministic_seed_dependent_and_scaled(name: str, tmp_path: Path):
    gold = write_sample(name, tmp_path / "a", seed=3)
    write_sample(name, tmp_path / "b", seed=3)
    write_sample(name, tmp_path / "c", seed=4)
    assert _files(tmp_path / "a") == _files(tmp_path / "b") != _files(tmp_path / "c")
    small = write_sample(name, tmp_path / "small", seed=3, scale=0.3)
    assert all(1 <= len(small[split]) < len(gold[split]) for split in gold)
    assert set(gold) == set(corpus_info(name).splits)  # every split the reader knows, dev included where it has one
