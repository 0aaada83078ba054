"""Subword encoding of word sequences for token classification, with overlapping windows for long segments.

Alignment: a word's tag goes on its first subword; its other subwords, [CLS], [SEP] (and later padding) get
``IGNORE_INDEX``. Decoding reads each word's tag back from the same first subword (``word_index``).

Windows: a segment longer than ``max_length`` subwords is cut into windows ``[CLS] ... [SEP]`` of at most
``max_length`` tokens. Every window starts at a word's first subword and ends before a word's first subword
(whole words only; a single word longer than a window is the one exception and is cut), and consecutive windows
overlap by at least ``stride`` subwords, so every word is seen with context on both sides in some window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.data import IGNORE_INDEX
from mtclin.preprocess.words import word_spans


@dataclass(eq=False)
class NerWindow:
    """One encoder input. Arrays are int64 of the window's length T (no padding; collation pads)."""

    input_ids: np.ndarray  # (T,) [CLS] subwords [SEP]
    word_index: np.ndarray  # (T,) index of the word in its example on the word's FIRST subword, -1 elsewhere
    labels: np.ndarray | None  # (T,) tag id where word_index >= 0, IGNORE_INDEX elsewhere; None when unlabelled
    example_index: int  # position of the row / text it came from in the input sequence
    # span tasks (``encode_spans``): the gold entities lying wholly inside this window, (G, 3) int64 rows
    # (first word, last word, type id >= 1) with word indices of the example; None when unlabelled or BIO
    spans: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.input_ids)


def _check_args(tokenizer: Any, max_length: int, stride: int) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer: word alignment needs word_ids(); "
                         "load it with AutoTokenizer.from_pretrained(..., use_fast=True)")
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ValueError(f"{type(tokenizer).__name__} has no [CLS]/[SEP] token: a BERT tokenizer is expected")
    if max_length < 3:
        raise ValueError(f"max_length={max_length}: needs at least 3 tokens ([CLS], one subword, [SEP])")
    if not 0 <= stride < max_length - 2:
        raise ValueError(f"stride={stride}: must be >= 0 and < max_length - 2 = {max_length - 2} "
                         "(the overlap between windows, in subwords)")


def _window_bounds(first: np.ndarray, content: int, stride: int) -> list[tuple[int, int]]:
    """``[start, end)`` token ranges of the windows over one example's subwords (without specials).

    ``first[i]``: token i is a word's first subword. ``content``: subwords a window can hold."""
    n = len(first)
    if n <= content:
        return [(0, n)]
    word_starts = np.flatnonzero(first)
    bounds: list[tuple[int, int]] = []
    s = 0
    while True:
        e = s + content
        if e >= n:
            bounds.append((s, n))
            return bounds
        k = int(np.searchsorted(word_starts, e, side="right")) - 1
        if word_starts[k] > s:  # end before a word's first subword: whole words only
            e = int(word_starts[k])
        bounds.append((s, e))
        # next start: the last word start that leaves >= stride subwords of overlap, moving forward
        k = int(np.searchsorted(word_starts, e - stride, side="right")) - 1
        if k >= 0 and word_starts[k] > s:
            s = int(word_starts[k])
        else:
            k = int(np.searchsorted(word_starts, s, side="right"))
            if k == len(word_starts):  # only the tail of one over-long last word remains: nothing to label
                return bounds
            s = int(word_starts[k])


def _encode_words(
    word_lists: Sequence[Sequence[str]],
    tag_ids: Sequence[np.ndarray] | None,
    tokenizer: Any,
    max_length: int,
    stride: int,
) -> list[NerWindow]:
    _check_args(tokenizer, max_length, stride)
    cls = np.array([tokenizer.cls_token_id], dtype=np.int64)
    sep = np.array([tokenizer.sep_token_id], dtype=np.int64)
    edge = np.array([-1], dtype=np.int64)
    ignore = np.array([IGNORE_INDEX], dtype=np.int64)
    nonempty = [i for i, words in enumerate(word_lists) if len(words)]
    # one batched call for every example (the Rust tokenizer does the work); specials are added per window
    enc = tokenizer([list(word_lists[i]) for i in nonempty], is_split_into_words=True, add_special_tokens=False,
                    return_attention_mask=False, return_token_type_ids=False, verbose=False) if nonempty else None
    position = {i: j for j, i in enumerate(nonempty)}
    windows: list[NerWindow] = []
    for i in range(len(word_lists)):
        j = position.get(i)
        if j is None:  # no words: one empty window keeps every example represented
            ids = word_ids = np.zeros(0, dtype=np.int64)
        else:
            ids = np.asarray(enc["input_ids"][j], dtype=np.int64)
            word_ids = np.asarray(enc.word_ids(j), dtype=np.int64)  # no None: specials are not added
        first = np.ones(len(ids), dtype=bool)
        first[1:] = word_ids[1:] != word_ids[:-1]
        word_index = np.where(first, word_ids, -1)
        labels = None
        if tag_ids is not None:
            labels = np.where(first, tag_ids[i][word_ids], IGNORE_INDEX)
        for s, e in _window_bounds(first, max_length - 2, stride):
            windows.append(NerWindow(
                input_ids=np.concatenate([cls, ids[s:e], sep]),
                word_index=np.concatenate([edge, word_index[s:e], edge]),
                labels=None if labels is None else np.concatenate([ignore, labels[s:e], ignore]),
                example_index=i,
            ))
    return windows


def _tag_ids(rows: Sequence[Mapping[str, Any]], tag_labels: Sequence[str]) -> list[np.ndarray]:
    to_id = {tag: k for k, tag in enumerate(tag_labels)}
    out = []
    for i, row in enumerate(rows):
        words, tags = row["words"], row["tags"]
        if len(tags) != len(words):
            raise ValueError(f"row {i} (doc_id={row.get('doc_id')!r}, segment={row.get('segment')}): "
                             f"{len(words)} words but {len(tags)} tags; re-run preprocessing")
        try:
            out.append(np.fromiter((to_id[t] for t in tags), dtype=np.int64, count=len(tags)))
        except KeyError as err:
            raise ValueError(f"row {i} (doc_id={row.get('doc_id')!r}, segment={row.get('segment')}): tag "
                             f"{err.args[0]!r} is not one of the task's tag labels {list(tag_labels)}; check the "
                             "task's label list against the processed data") from None
    return out


def encode_ner(
    rows: Sequence[Mapping[str, Any]],
    tokenizer: Any,
    tag_labels: Sequence[str] | None,
    max_length: int,
    stride: int,
) -> list[NerWindow]:
    """Encode processed NER rows (``words``, and ``tags`` when ``tag_labels`` is given) into windows.

    ``tag_labels``: the head's classes (``TaskSpec.tag_labels``); None encodes without labels (inference).
    ``max_length``: tokens per window including [CLS]/[SEP]; ``stride``: minimum overlap of windows in subwords.
    Windows come in row order; ``example_index`` is the row's position in ``rows``."""
    tag_ids = None if tag_labels is None else _tag_ids(rows, tag_labels)
    return _encode_words([row["words"] for row in rows], tag_ids, tokenizer, max_length, stride)


def encode_texts(
    texts: Sequence[str],
    tokenizer: Any,
    max_length: int,
    stride: int,
) -> tuple[list[NerWindow], list[list[tuple[int, int]]]]:
    """Encode raw texts for inference with the preprocessing word tokenizer (``word_spans``).

    Returns the windows (``example_index`` = position in ``texts``) and each text's word ``(start, end)``
    character offsets, which ``decode.decode_texts`` needs to turn word predictions into character spans."""
    spans = [word_spans(text) for text in texts]
    words = [[text[s:e] for s, e in text_spans] for text, text_spans in zip(texts, spans)]
    return _encode_words(words, None, tokenizer, max_length, stride), spans
