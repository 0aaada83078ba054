"""Readers for the official raw releases of the eight corpora (formats: shared FORMATS.md)."""

from mtclin.corpora.problems import CorpusFormatError, ProblemLog
from mtclin.corpora.registry import CORPORA, SPLITS, corpus_info, read_corpus, register
from mtclin.corpora.types import Corpus, Document, Entity, Pair, Problem

__all__ = [
    "CORPORA", "SPLITS", "Corpus", "CorpusFormatError", "Document", "Entity", "Pair", "Problem", "ProblemLog",
    "corpus_info", "read_corpus", "register",
]
