"""JSON-lines request handling shared by `mtclin predict` and the MLflow pyfunc model.

A record is ``{"text": ...}`` (every NER task's entities) or ``{"a": ..., "b": ...}`` (every pair task's
output); an ``id`` field, when present, is echoed back. Records are batched: texts together, pairs together.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, TextIO


class RequestError(ValueError):
    pass


def read_jsonl(stream: TextIO, name: str = "<stdin>") -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise RequestError(f"{name}:{number}: not JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict) or not ("text" in record or ("a" in record and "b" in record)):
            raise RequestError(f'{name}:{number}: expected an object with "text", or "a" and "b"')
        yield record


def answer(predictor, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One output object per record, in order."""
    texts = [i for i, r in enumerate(records) if "text" in r]
    pairs = [i for i, r in enumerate(records) if "text" not in r]
    out: list[dict[str, Any]] = [{} for _ in records]
    for i, result in zip(texts, predictor.predict([str(records[i]["text"]) for i in texts])):
        out[i] = {"entities": result}
    for i, result in zip(pairs, predictor.predict_pairs([(str(records[i]["a"]), str(records[i]["b"]))
                                                          for i in pairs])):
        out[i] = {"pair": result}
    for i, record in enumerate(records):
        if "id" in record:
            out[i] = {"id": record["id"]} | out[i]
    return out


def predict_records(predictor, records: Iterable[dict[str, Any]], chunk: int = 256) -> Iterator[str]:
    """JSON lines of answers, processing ``chunk`` records at a time."""
    buffer: list[dict[str, Any]] = []
    for record in records:
        buffer.append(record)
        if len(buffer) == chunk:
            yield from (json.dumps(r) for r in answer(predictor, buffer))
            buffer = []
    if buffer:
        yield from (json.dumps(r) for r in answer(predictor, buffer))
