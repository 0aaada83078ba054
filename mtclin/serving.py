"""JSON-lines request handling shared by `mtclin predict` and the MLflow pyfunc model.

A record is ``{"text": ...}`` (every NER task's entities) or ``{"a": ..., "b": ...}`` (every pair task's
output); an ``id`` field, when present, is echoed back. Records are batched: texts together, pairs together.
Entities are ``{"start", "end", "type", "score"}`` (character offsets into the text), sorted; those of a span-head
NER task may overlap or nest (``mtclin.inference.Predictor.predict``), a BIO task's never do.

De-identification (``mtclin deid``, the pyfunc's ``deid`` param) takes ``{"text": ...}`` records only and answers
each with ``{"text": the de-identified note, "replaced": [{"start", "end", "type", "output_start", "output_end",
"replacement", "score", "merged"}, ...]}`` (:func:`mtclin.deid.deidentify`): no original PHI string is echoed.
A model with assertion / relation tasks answers a text with ``{"entities": {...}, "relations": {...}}``: each
entity of a linked NER task has an ``id`` ("T1", ...; unique within that task's list for the text) and, when an
assertion task covers its type, ``assertion`` and ``assertion_score``; ``relations`` maps each relation task to
``[{"type", "arg1", "arg2", "score"}, ...]``, the arguments being ids of its source NER task's entities
(``i2b2-2010-relations`` -> ``entities["i2b2-2010"]``). A model without them answers exactly as before.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator, TextIO


class RequestError(ValueError):
    pass


def read_jsonl(stream: TextIO, name: str = "<stdin>", text_only: bool = False) -> Iterator[dict[str, Any]]:
    """The request records of a JSON-lines stream; RequestError naming ``name:line`` (never its content) for a line
    that is not one. ``text_only``: only ``{"text": ...}`` records (de-identification)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise RequestError(f"{name}:{number}: not JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(record, dict) or not ("text" in record or ("a" in record and "b" in record)):
            raise RequestError(f'{name}:{number}: expected an object with "text", or "a" and "b"')
        if text_only and "text" not in record:
            raise RequestError(f'{name}:{number}: de-identification takes notes: expected an object with "text" '
                               '(a pair record has nothing to de-identify)')
        yield record


def answer(predictor, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One output object per record, in order."""
    texts = [i for i, r in enumerate(records) if "text" in r]
    pairs = [i for i, r in enumerate(records) if "text" not in r]
    out: list[dict[str, Any]] = [{} for _ in records]
    relation_tasks = {t.name for t in getattr(getattr(predictor, "meta", None), "tasks", ()) if t.kind == "relation"}
    for i, result in zip(texts, predictor.predict([str(records[i]["text"]) for i in texts])):
        out[i] = {"entities": {k: v for k, v in result.items() if k not in relation_tasks}}
        if relation_tasks:
            out[i]["relations"] = {k: v for k, v in result.items() if k in relation_tasks}
    for i, result in zip(pairs, predictor.predict_pairs([(str(records[i]["a"]), str(records[i]["b"]))
                                                          for i in pairs])):
        out[i] = {"pair": result}
    for i, record in enumerate(records):
        if "id" in record:
            out[i] = {"id": record["id"]} | out[i]
    return out


def deid_answer(predictor, records: list[dict[str, Any]], task: str, surrogates: bool = False
                ) -> list[dict[str, Any]]:
    """One ``{"id"?, "text", "replaced"}`` per ``{"text": ...}`` record, in order: the note with every PHI entity of
    ``task`` (the predictor's PHI head, see :func:`mtclin.deid.phi_task`) replaced."""
    from mtclin.deid import deidentify

    for i, record in enumerate(records):
        if "text" not in record:
            raise RequestError(f'row {i}: de-identification takes notes: expected a "text" value')
    texts = [str(r["text"]) for r in records]
    out = []
    for record, text, result in zip(records, texts, predictor.predict(texts)):
        done = deidentify(text, result[task], surrogates).to_json()
        out.append(({"id": record["id"]} if "id" in record else {}) | done)
    return out


def predict_records(predictor, records: Iterable[dict[str, Any]], chunk: int = 256,
                    respond: Callable[[Any, list[dict[str, Any]]], list[dict[str, Any]]] = answer) -> Iterator[str]:
    """JSON lines of answers (``respond``: :func:`answer`, or e.g. a :func:`deid_answer` partial), processing
    ``chunk`` records at a time."""
    buffer: list[dict[str, Any]] = []
    for record in records:
        buffer.append(record)
        if len(buffer) == chunk:
            yield from (json.dumps(r) for r in respond(predictor, buffer))
            buffer = []
    if buffer:
        yield from (json.dumps(r) for r in respond(predictor, buffer))
