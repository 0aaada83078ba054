"""A saved tiny multitask model (every task kind) and its fp32 / int8 ONNX exports, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtclin.export.onnx import export_onnx_all
from mtclin.model.io import ModelMeta, build_model, save_model
from mtclin.tasks import task_for_corpus

TASKS = tuple(task_for_corpus(c) for c in ("n2c2-2018", "quaero-2014", "medrqe", "mednli", "n2c2-2019"))


@pytest.fixture(scope="module")
def tiny_model_dir(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model, tokenizer = build_model(str(tiny[1]), TASKS)
    return save_model(model, tokenizer, tmp_path_factory.mktemp("model") / "model",
                      ModelMeta(TASKS, max_length=32, stride=8))


@pytest.fixture(scope="module")
def exports(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"fp32": export dir, "int8": export dir} of the tiny model."""
    root = tmp_path_factory.mktemp("exports")
    export_onnx_all(tiny_model_dir, {"fp32": root / "fp32", "int8": root / "int8"})
    return {"fp32": root / "fp32", "int8": root / "int8"}
