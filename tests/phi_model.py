"""A tiny saved model with a PHI head (i2b2-2014) that tags every word ``B-DATE``: its de-identification is known
without training (every word its own ``[DATE]``), so the CLI and the served route can be checked exactly."""

from __future__ import annotations

from pathlib import Path

import torch

from mtclin.deid import PHI_TASK
from mtclin.model.io import ModelMeta, build_model, save_model
from mtclin.tasks import TaskSpec, task_for_corpus


def save_phi_model(encoder: Path, out: Path, with_phi: bool = True) -> Path:
    """A model of ``encoder`` with tasks i2b2-2014 (rigged: every word B-DATE) and medrqe, or, without
    ``with_phi``, n2c2-2018 and medrqe only (no PHI head)."""
    names = (PHI_TASK, "medrqe") if with_phi else ("n2c2-2018", "medrqe")
    tasks: tuple[TaskSpec, ...] = tuple(task_for_corpus(n) for n in names)
    torch.manual_seed(0)
    model, tokenizer = build_model(str(encoder), tasks)
    if with_phi:
        head = model.heads[PHI_TASK].classifier
        with torch.no_grad():  # every token's logits: B-DATE far ahead of every other tag, whatever the encoder says
            head.weight.zero_()
            head.bias.fill_(-10.0)
            head.bias[tasks[0].tag_labels.index("B-DATE")] = 10.0
    return save_model(model, tokenizer, out, ModelMeta(tasks, max_length=32, stride=8))
