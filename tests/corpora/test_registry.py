"""The one Registry type (mtclin/registry.py) and its three users: corpora, heads, schedules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtclin.corpora.declared import FORMATS
from mtclin.corpora.registry import BUILTIN, CORPORA, DERIVED, CorpusInfo, register
from mtclin.model.heads import HEADS
from mtclin.registry import Registry
from mtclin.train.schedules import SCHEDULES


def test_register_get_names_and_mapping_behaviour():
    things: Registry[int] = Registry("thing")

    @things.register("b")
    def b() -> int:
        return 2

    things.add("a", 1)
    things.add("a", 1)  # the same value again (a module imported twice): fine
    assert things.names() == ("b", "a") and list(things) == ["b", "a"] and len(things) == 2
    assert things.get("a") == things["a"] == 1 and "b" in things and "c" not in things
    assert sorted(things) == ["a", "b"] and dict(things) == {"b": b, "a": 1}
    with pytest.raises(ValueError, match=r"^thing 'a' is already registered \(as 1\); choose a new versioned name"):
        things.add("a", 3)  # never change behaviour under an existing name
    with pytest.raises(KeyError, match=r"unknown thing 'c'; known: a, b"):
        things.get("c")
    with pytest.raises(KeyError, match=r"unknown thing 'c'"):
        things["c"]


def test_load_runs_once_before_the_first_lookup():
    calls = []
    lazy: Registry[str] = Registry("thing", load=lambda: calls.append(1) or lazy.add("x", "loaded"))
    assert calls == []
    assert lazy.get("x") == "loaded" and lazy.names() == ("x",) and calls == [1]


def test_corpora_heads_and_schedules_share_the_type():
    for registry in (BUILTIN, FORMATS, HEADS, SCHEDULES, DERIVED):
        assert isinstance(registry, Registry)
    assert set(HEADS) == {"ner", "nli", "sts", "span", "assertion", "relation"} and set(FORMATS) == {"brat", "jsonl-pairs", "tsv-pairs"}
    assert sorted(SCHEDULES) == ["loss_sum", "proportional", "round_robin", "temperature"]
    assert set(DERIVED) == {"i2b2-2010-assertion", "i2b2-2010-relations", "n2c2-2018-relations"}
    assert set(CORPORA) == set(BUILTIN) and all(isinstance(BUILTIN[name], CorpusInfo) for name in CORPORA)
    with pytest.raises(KeyError, match=r"unknown schedule 'nope'; known: loss_sum, proportional"):
        SCHEDULES.get("nope")


def test_a_second_reader_under_a_builtin_name_is_refused():
    with pytest.raises(ValueError, match=r"built-in corpus 'medrqe' is already registered"):
        register("medrqe", "nli", ("false", "true"))(lambda root, **_: None)


def test_the_readme_corpora_table_lists_exactly_the_builtin_corpora():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The eight corpora", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `([^`]+)` \| [^|]+ \| `data/([^`]+)/`", table, flags=re.M)
    assert sorted(name for name, _ in rows) == sorted(CORPORA) and all(name == folder for name, folder in rows)
