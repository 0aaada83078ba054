"""Readers of the corpora's raw releases (formats: shared FORMATS.md) and the declarations of every corpus."""

from typing import Any

from mtclin.corpora.problems import CorpusFormatError, ProblemLog
from mtclin.corpora.registry import SPLITS, corpus_info, corpus_names, read_corpus, register
from mtclin.corpora.types import Corpus, Document, Entity, Pair, Problem

__all__ = [
    "CORPORA", "SPLITS", "Corpus", "CorpusFormatError", "Document", "Entity", "Pair", "Problem", "ProblemLog",
    "corpus_info", "corpus_names", "read_corpus", "register",
]


def __getattr__(attribute: str) -> Any:
    if attribute == "CORPORA":  # derived from the declarations on first use, see registry.py
        from mtclin.corpora import registry

        return registry.CORPORA
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
