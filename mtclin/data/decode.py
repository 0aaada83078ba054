"""From per-token tag predictions of every window back to character spans of the original text.

1. Word tags: a word takes the prediction at its first subword (``NerWindow.word_index``). Where windows overlap,
   a word takes the prediction of the window in which its first subword is farthest from the window's edge
   (``min(position, T - 1 - position)``; ties go to the earlier window), so each word, hence each entity, is
   counted once and always with the most context on both sides.
2. BIO repair: an entity starts at ``B-x``, or at ``I-x`` not preceded by ``B-x``/``I-x`` of the same type
   (an orphan I- starts a new entity rather than being dropped); it continues over following ``I-x`` and ends
   at anything else (``O``, ``B-*``, ``I-y``). So ``B-x I-x B-x I-x`` is two entities.
3. Entity = maximal run as above -> ``(start char of its first word, end char of its last word, type, score)``,
   score = mean probability of the predicted tag over its words (1.0 when no probabilities are given).
A word that got no subword at all (the tokenizer dropped it, e.g. a lone combining accent) has no prediction
and is skipped: a run continues across it, and it is never an entity's first or last word.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from mtclin.data.encode_ner import NerWindow

PredSpan = tuple[int, int, str, float]  # (start, end, type, score), half-open character offsets
GoldSpan = tuple[int, int, str]


_O, _B, _I = 0, 1, 2


@lru_cache(maxsize=32)
def _parse_tags(tag_labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per tag id: prefix code (_O, _B, _I) and type id (-1 for O); and the type names."""
    prefixes, type_ids, names = [], [], []
    for tag in tag_labels:
        if tag == "O":
            prefixes.append(_O)
            type_ids.append(-1)
        elif tag[:2] in ("B-", "I-") and len(tag) > 2:
            prefixes.append(_B if tag[0] == "B" else _I)
            if tag[2:] not in names:
                names.append(tag[2:])
            type_ids.append(names.index(tag[2:]))
        else:
            raise ValueError(f"tag {tag!r} in tag_labels is not BIO ('O', 'B-<type>', 'I-<type>'): pass the "
                             "NER task's TaskSpec.tag_labels")
    return np.array(prefixes), np.array(type_ids), names


def word_predictions(
    windows: Sequence[NerWindow],
    tag_ids: Sequence[Sequence[int]],
    n_words: Sequence[int],
    probs: Sequence[Sequence[float]] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per example: ``(tag id per word, -1 where no window carries the word; probability per word)``.

    ``tag_ids[k]`` / ``probs[k]``: the predicted tag id / its probability at every token position of window k
    (a row of the padded batch is fine: positions past the window's length are not read)."""
    if len(tag_ids) != len(windows) or (probs is not None and len(probs) != len(windows)):
        raise ValueError(f"{len(windows)} windows but {len(tag_ids)} tag rows"
                         + ("" if probs is None else f" and {len(probs)} probability rows")
                         + ": pass one prediction row per window, in the windows' order")
    tags = [np.full(n, -1, dtype=np.int64) for n in n_words]
    scores = [np.ones(n, dtype=np.float64) for n in n_words]
    best = [np.full(n, -1, dtype=np.int64) for n in n_words]  # distance to the edge of the chosen window
    for k, window in enumerate(windows):
        T = len(window)
        pos = np.flatnonzero(window.word_index >= 0)
        words = window.word_index[pos]
        dist = np.minimum(pos, T - 1 - pos)
        i = window.example_index
        better = dist > best[i][words]
        pos, words = pos[better], words[better]
        best[i][words] = dist[better]
        tags[i][words] = np.asarray(tag_ids[k])[pos]
        if probs is not None:
            scores[i][words] = np.asarray(probs[k], dtype=np.float64)[pos]
    return list(zip(tags, scores))


def bio_entities(
    word_tags: np.ndarray,
    word_scores: np.ndarray,
    starts: Sequence[int],
    ends: Sequence[int],
    tag_labels: Sequence[str],
) -> list[PredSpan]:
    """Entities of one example from its word tag ids (-1 = no prediction, skipped) and word char offsets."""
    prefix_of, type_of, names = _parse_tags(tuple(tag_labels))
    word_tags, word_scores = np.asarray(word_tags, dtype=np.int64), np.asarray(word_scores, dtype=np.float64)
    words = np.flatnonzero(word_tags >= 0)  # words with a prediction, in order
    tags = word_tags[words]
    prefix, typ = prefix_of[tags], type_of[tags]
    inside = prefix != _O
    # continues the previous (predicted) word's entity: I-x right after B-x / I-x
    cont = inside & (prefix == _I) & np.r_[False, inside[:-1]] & (np.r_[-1, typ[:-1]] == typ)
    first = np.flatnonzero(inside & ~cont)  # positions (in ``words``) where an entity starts
    members = np.flatnonzero(inside)
    entity = np.cumsum(inside & ~cont)[members] - 1  # entity number of each member
    last = members[np.r_[entity[1:] != entity[:-1], True]] if len(members) else members
    score = np.bincount(entity, weights=word_scores[words[members]], minlength=len(first))
    score = score / np.maximum(np.bincount(entity, minlength=len(first)), 1)
    return [(int(starts[words[f]]), int(ends[words[l]]), names[typ[f]], float(sc))
            for f, l, sc in zip(first.tolist(), last.tolist(), score.tolist())]


def decode_spans(
    windows: Sequence[NerWindow],
    tag_ids: Sequence[Sequence[int]],
    tag_labels: Sequence[str],
    starts: Sequence[Sequence[int]],
    ends: Sequence[Sequence[int]],
    probs: Sequence[Sequence[float]] | None = None,
) -> list[list[PredSpan]]:
    """Entities per example (``starts[i]``/``ends[i]``: char offsets of example i's words)."""
    words = word_predictions(windows, tag_ids, [len(s) for s in starts], probs)
    return [bio_entities(t, p, s, e, tag_labels) for (t, p), s, e in zip(words, starts, ends)]


def decode_rows(
    rows: Sequence[Mapping[str, Any]],
    windows: Sequence[NerWindow],
    tag_ids: Sequence[Sequence[int]],
    tag_labels: Sequence[str],
    probs: Sequence[Sequence[float]] | None = None,
) -> dict[str, list[PredSpan]]:
    """Entities per ``doc_id`` in document character offsets, from the processed rows the windows were encoded
    from (``encode_ner(rows, ...)``). Every document of ``rows`` is a key, even with no entity."""
    per_row = decode_spans(windows, tag_ids, tag_labels, [r["starts"] for r in rows], [r["ends"] for r in rows],
                           probs)
    out: dict[str, list[PredSpan]] = defaultdict(list)
    for row, spans in zip(rows, per_row):
        out[row["doc_id"]].extend(spans)
    return {doc: sorted(spans) for doc, spans in out.items()}


def decode_texts(
    spans: Sequence[Sequence[tuple[int, int]]],
    windows: Sequence[NerWindow],
    tag_ids: Sequence[Sequence[int]],
    tag_labels: Sequence[str],
    probs: Sequence[Sequence[float]] | None = None,
) -> list[list[PredSpan]]:
    """Entities per raw text, from ``encode_texts``' windows and word spans (char offsets into each text)."""
    return decode_spans(windows, tag_ids, tag_labels, [[s for s, _ in w] for w in spans],
                        [[e for _, e in w] for w in spans], probs)


def gold_by_doc(rows: Sequence[Mapping[str, Any]]) -> dict[str, set[GoldSpan]]:
    """The evaluation target per ``doc_id``: every gold entity (``gold_starts``/``gold_ends``/``gold_types``)
    of every segment of the document, as ``metrics.span_prf`` takes it."""
    out: dict[str, set[GoldSpan]] = defaultdict(set)
    for row in rows:
        # a document without entities is still a key (an empty set)
        out[row["doc_id"]].update(zip(row["gold_starts"], row["gold_ends"], row["gold_types"]))
    return dict(out)
