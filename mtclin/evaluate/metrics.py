"""Task metrics as the paper reports them: exact character-span micro P/R/F1 (NER), accuracy and macro-F1 (NLI),
Pearson and Spearman correlation (STS); de-identification scores of the replaced PHI regions (``deid_prf``).
Plain functions over plain Python values; no division yields NaN: an undefined ratio (nothing predicted, nothing
gold, constant predictions) is 0.0.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


def _ratio(num: float, den: float) -> float:
    return float(num) / den if den else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"precision": p, "recall": r, "f1": _ratio(2 * p * r, p + r), "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn}


def span_prf(gold: Mapping[str, Iterable[tuple]], pred: Mapping[str, Iterable[tuple]]) -> dict[str, Any]:
    """Exact-match span scores micro-averaged over documents.

    ``gold`` / ``pred``: per doc_id, spans ``(start, end, type)``; extra fields (a predicted span's score) are
    ignored, duplicates count once, a document missing on one side counts as having no spans there. A span
    counts only if start, end and type all match, so a partial overlap is one FP and one FN.
    Returns precision, recall, f1, tp, fp, fn, support (gold count), ``nested_recall`` / ``nested_support``:
    the recall over the gold entities that overlap another gold entity of their document (nested, overlapping,
    or the same characters under another type: what one BIO layer cannot hold; 0.0 without any), and
    ``per_type``: the same per entity type (every type seen in gold or predictions)."""
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    nested_found = nested = 0
    for doc in set(gold) | set(pred):
        g = {tuple(s[:3]) for s in gold.get(doc, ())}
        p = {tuple(s[:3]) for s in pred.get(doc, ())}
        tp.update(s[2] for s in g & p)
        fp.update(s[2] for s in p - g)
        fn.update(s[2] for s in g - p)
        overlapping = overlapping_spans(g)
        nested += len(overlapping)
        nested_found += len(overlapping & p)
    out: dict[str, Any] = _prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    out["nested_recall"], out["nested_support"] = _ratio(nested_found, nested), nested
    out["per_type"] = {t: _prf(tp[t], fp[t], fn[t]) for t in sorted(set(tp) | set(fp) | set(fn))}
    return out


def overlapping_spans(spans: Iterable[tuple]) -> set[tuple]:
    """The ``(start, end, type)`` spans sharing at least one character with another span of the set."""
    ordered = sorted(set(spans))
    out: set[tuple] = set()
    reach = -1  # the furthest end among the spans before the current one
    for i, span in enumerate(ordered):
        start, end = span[0], span[1]
        after = i + 1 < len(ordered) and ordered[i + 1][0] < end  # sorted by start: the next one is enough
        if start < reach or after:
            out.add(span)
        reach = max(reach, end)
    return out


def deid_prf(gold: Mapping[str, Iterable[tuple]], predicted: Mapping[str, Iterable[tuple]],
             words: Mapping[str, Iterable[tuple[int, int]]] | None = None) -> dict[str, Any]:
    """De-identification scores: how well the regions ``mtclin.deid`` replaces remove the gold PHI, type-blind
    (a name replaced as ``[PATIENT]`` instead of ``[DOCTOR]`` is still removed), micro over documents.

    ``gold``: per doc_id, PHI spans ``(start, end, type)``; ``predicted``: per doc_id, predicted spans ``(start,
    end, type[, score])``, merged as de-identification merges them (overlaps become one replaced region,
    :func:`mtclin.deid.merge_spans`) before scoring. ``words``: per doc_id, ``(start, end)`` of every word.
    - recall: the share of gold PHI spans *removed*: every character of the span lies inside a replaced region;
      with ``words``, every character of the span that belongs to a word (the whitespace between two replaced
      words leaks nothing).
    - precision: the share of replaced regions that are *correct*: they overlap (share a character with) at least
      one gold PHI span.
    Returns deid_precision, deid_recall, deid_f1 and the counts deid_removed, deid_gold, deid_correct,
    deid_replaced. Nothing gold and nothing replaced: 0.0 (as every undefined ratio here)."""
    from mtclin.deid import as_spans, merge_spans

    removed = total = correct = replaced = 0
    for doc in set(gold) | set(predicted):
        g = sorted({tuple(s[:2]) for s in gold.get(doc, ())})
        regions = [m for m, _ in merge_spans(as_spans(predicted.get(doc, ())))]
        size = max([e for _, e in g] + [r[1] for r in regions] + [0])
        covered, is_gold = bytearray(size), bytearray(size)  # per character: replaced / inside gold PHI
        for start, end, *_ in regions:
            covered[start:end] = b"\x01" * (end - start)
        for start, end in g:
            is_gold[start:end] = b"\x01" * (end - start)
        needed = is_gold if words is None else bytearray(size)  # the characters that must be replaced
        if words is not None:
            for start, end in words.get(doc, ()):
                if start < size:
                    needed[start:min(end, size)] = is_gold[start:min(end, size)]
        total += len(g)
        removed += sum(all(covered[c] or not needed[c] for c in range(s, e)) for s, e in g)
        replaced += len(regions)
        correct += sum(any(is_gold[s:e]) for s, e, *_ in regions)
    p, r = _ratio(correct, replaced), _ratio(removed, total)
    return {"deid_precision": p, "deid_recall": r, "deid_f1": _ratio(2 * p * r, p + r), "deid_removed": removed,
            "deid_gold": total, "deid_correct": correct, "deid_replaced": replaced}


def classification_metrics(gold: Sequence[int | str], pred: Sequence[int | str],
                           labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and the confusion matrix (rows gold, columns predicted, in ``labels`` order).

    ``gold`` / ``pred``: class indices into ``labels`` or label strings. Macro-F1 averages the F1 of the
    classes that occur in gold or predictions (a class absent from both says nothing about the model)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions: pass one prediction per example")
    to_id = {label: k for k, label in enumerate(labels)}

    def index(values: Sequence[int | str]) -> np.ndarray:
        try:
            return np.array([to_id[v] if isinstance(v, str) else int(v) for v in values], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"label {err.args[0]!r} is not one of {list(labels)}") from None

    g, p = index(gold), index(pred)
    k = len(labels)
    if len(g) and (min(g.min(), p.min()) < 0 or max(g.max(), p.max()) >= k):
        raise ValueError(f"class index out of range for {k} labels {list(labels)}")
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (g, p), 1)
    tp = np.diag(confusion)
    f1 = [_prf(int(tp[c]), int(confusion[:, c].sum() - tp[c]), int(confusion[c].sum() - tp[c]))["f1"]
          for c in range(k) if confusion[c].sum() or confusion[:, c].sum()]
    return {
        "accuracy": _ratio(int(tp.sum()), len(g)),
        "macro_f1": float(np.mean(f1)) if f1 else 0.0,
        "confusion": confusion.tolist(),
        "labels": list(labels),
    }


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank (as Spearman's rho needs)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float(np.clip((x * y).sum() / den, -1.0, 1.0)) if den > 0 else 0.0


def correlation_metrics(gold: Sequence[float], pred: Sequence[float]) -> dict[str, float]:
    """Pearson and Spearman correlation of predicted and gold scores; 0.0 when undefined (fewer than two
    examples, or constant gold or predictions)."""
    g, p = np.asarray(gold, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    if g.shape != p.shape or g.ndim != 1:
        raise ValueError(f"gold has shape {g.shape} but predictions {p.shape}: pass one score per example")
    if not (np.isfinite(g).all() and np.isfinite(p).all()):
        raise ValueError("scores contain NaN or infinity: check the regression head's output")
    if len(g) < 2:
        return {"pearson": 0.0, "spearman": 0.0}
    return {"pearson": _pearson(g, p), "spearman": _pearson(_average_ranks(g), _average_ranks(p))}


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested metric dicts as flat ``{"per_type.DISO.f1": 0.5, ...}`` numbers (for trackers); lists dropped."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out
