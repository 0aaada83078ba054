"""The multitask model as an MLflow pyfunc: one request row in, every task's output for that row out.

A row is ``{"text": ...}`` (every NER task's entities, character offsets into the text; with assertion / relation
tasks, entity ids, assertions and ``relations`` as :mod:`mtclin.serving` documents) or ``{"a": ..., "b": ...}``
(every entailment task's label and probabilities, and the STS score); an ``id`` is echoed back. The answer per row
is the dict :func:`mtclin.serving.answer` gives, so ``mlflow models serve`` returns ``{"predictions": [...]}``
with the same objects as ``mtclin predict``.

De-identification is a mode of the request, not of a row: MLflow params ``{"deid": true}`` (optional
``"surrogates": true``, ``"deid_task"``: the PHI head, default i2b2-2014) answer each text row with the objects
``mtclin deid`` writes (``{"id"?, "text": de-identified note, "replaced": [...]}``, :func:`mtclin.serving.deid_answer`).
Params rather than a row column: the options belong to the whole request (as to the CLI command), the row schema
stays the one every backend and client knows, and a boolean column would be null in every other row of a mixed
DataFrame. ``mlflow models serve``: ``{"dataframe_records": [{"text": ...}], "params": {"deid": true}}``.

Backends: ``torch`` (default), ``onnx`` (the fp32 ONNX export) or ``onnx-int8``, chosen by the ``MTCLIN_BACKEND``
environment variable, else the ``backend`` key of the model config (``mlflow.pyfunc.load_model(uri,
model_config={"backend": "onnx"})``). The ONNX exports travel as extra artifacts of the same model version
(``registry.log_and_register(..., onnx=True)``); every backend answers with the same objects.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping

import mlflow.pyfunc

# Synthetic sentences written for the input example: no corpus or patient text may be stored with a model.
EXAMPLE_TEXT = "patient takes aspirin 81 mg daily for chest pain ."
EXAMPLE_PAIR = ("does aspirin cause bleeding ?", "what are the side effects of aspirin ?")
FIELDS = ("id", "text", "a", "b")
ARTIFACT_KEY = "model"  # context.artifacts[ARTIFACT_KEY] = the saved model directory (mtclin.model.io layout)
# backend -> the artifact it runs: the saved model directory, or an export directory (mtclin.export.onnx layout)
BACKEND_ARTIFACTS = {"torch": ARTIFACT_KEY, "onnx": "onnx", "onnx-int8": "onnx-int8"}
ONNX_PRECISIONS = {"onnx": None, "onnx-int8": "int8"}  # ONNX backend -> export_onnx(quantize=...)
BACKEND_ENV = "MTCLIN_BACKEND"


def input_example():
    """Two rows (a text, a pair) as a DataFrame; every column present, empty cells None."""
    import pandas as pd

    return pd.DataFrame([{"id": "example-text", "text": EXAMPLE_TEXT, "a": None, "b": None},
                         {"id": "example-pair", "text": None, "a": EXAMPLE_PAIR[0], "b": EXAMPLE_PAIR[1]}],
                        columns=list(FIELDS))


def signature():
    """Inputs: optional string columns id, text, a, b; params ``deid``, ``surrogates`` (booleans, default false)
    and ``deid_task`` (default i2b2-2014). No output schema: rows are nested objects."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from mtclin.deid import PHI_TASK

    params = ParamSchema([ParamSpec("deid", "boolean", False), ParamSpec("surrogates", "boolean", False),
                          ParamSpec("deid_task", "string", PHI_TASK)])
    return ModelSignature(inputs=Schema([ColSpec("string", name, required=False) for name in FIELDS]),
                          params=params)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def to_records(model_input: Any) -> list[dict[str, Any]]:
    """A DataFrame, a list of dicts or one dict as request records with their empty cells dropped. Raises
    ValueError naming the row (never its content) when a row has neither "text" nor both "a" and "b"."""
    import pandas as pd

    if isinstance(model_input, pd.DataFrame):
        if not {"text", "a", "b"} & set(model_input.columns):
            # MLflow's schema check drops unknown columns, which can leave no rows at all: say so, don't answer []
            raise ValueError('expected a "text" column, or "a" and "b" columns')
        rows = model_input.to_dict(orient="records")
    elif isinstance(model_input, dict):
        rows = [model_input]
    else:
        rows = list(model_input)
    records = []
    for i, row in enumerate(rows):
        record = {k: v for k, v in dict(row).items() if k in FIELDS and _present(v)}
        if "text" not in record and not ("a" in record and "b" in record):
            raise ValueError(f'row {i}: expected a "text" value, or "a" and "b" values')
        records.append(record)
    return records


def serving_backend(model_config: Mapping[str, Any] | None = None) -> str:
    """``MTCLIN_BACKEND`` when set, else ``model_config["backend"]``, else ``torch``; checked against the known
    backends."""
    backend = os.environ.get(BACKEND_ENV) or (model_config or {}).get("backend") or "torch"
    if backend not in BACKEND_ARTIFACTS:
        raise ValueError(f"serving backend {backend!r} ({BACKEND_ENV} or model_config['backend']): use one of "
                         f"{', '.join(BACKEND_ARTIFACTS)}")
    return backend


class MTClinicalModel(mlflow.pyfunc.PythonModel):
    """Loads :class:`mtclin.inference.Predictor` from the artifact of the serving backend; answers rows with every
    task."""

    def load_context(self, context) -> None:
        from mtclin.inference import Predictor

        self.backend = serving_backend(getattr(context, "model_config", None))
        key = BACKEND_ARTIFACTS[self.backend]
        if key not in context.artifacts:
            raise ValueError(f"backend {self.backend!r}: this model version has no {key!r} artifact (registered "
                             "without ONNX exports, as models with span NER, assertion or relation heads are); "
                             f"re-register it with log_and_register(..., onnx=True) or serve with {BACKEND_ENV}=torch")
        if self.backend == "torch":
            self.predictor = Predictor.load(context.artifacts[key])
        else:
            self.predictor = Predictor.load(context.artifacts[key], device="cpu", backend="onnx")

    def predict(self, context, model_input, params=None):
        """Rows as in :func:`to_records` -> one answer dict per row, in order; with params ``deid``, each text row
        de-identified (see the module doc)."""
        from mtclin.serving import answer, deid_answer

        records = to_records(model_input)
        params = params or {}
        if params.get("deid"):
            from mtclin.deid import phi_task

            task = phi_task(self.predictor.meta.tasks, params.get("deid_task") or None, "the served model",
                            'params["deid_task"]')
            return deid_answer(self.predictor, records, task, bool(params.get("surrogates")))
        return answer(self.predictor, records)
