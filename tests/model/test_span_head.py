"""The span head: its representation, loss and errors; span TaskSpecs in tasks.json; a span model saved, loaded
and served (Predictor, `mtclin predict`) with the same answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mtclin.data import IGNORE_INDEX
from mtclin.inference import Predictor
from mtclin.model.io import ModelMeta, build_model, load_meta, save_model
from mtclin.model.span_head import SpanClassificationHead, SpanRepresentation
from mtclin.tasks import TaskSpec, task_for_corpus

SPAN = TaskSpec("quaero-2014", "ner", ("ANAT", "CHEM", "DISO"), head="span", max_span_width=3, span_threshold=0.4)
BIO = task_for_corpus("n2c2-2018")
TEXTS = ["cancer du poumon traite par cisplatine .", "", "fievre " * 120]


def test_span_representation_is_start_end_and_width():
    rep = SpanRepresentation(hidden_size=2, max_width=3, width_dim=1)
    with torch.no_grad():
        rep.width.weight.copy_(torch.tensor([[10.0], [20.0], [30.0]]))
    hidden = torch.arange(12, dtype=torch.float32).view(1, 6, 2)  # token t holds (2t, 2t + 1)
    out = rep(hidden, torch.tensor([[1, 2, 0]]), torch.tensor([[3, 2, 0]]), torch.tensor([[2, 0, -1]]))
    assert out.shape == (1, 3, rep.output_size) == (1, 3, 5)
    assert out[0, 0].tolist() == [2, 3, 6, 7, 30]
    assert out[0, 1].tolist() == [4, 5, 4, 5, 10]
    assert out[0, 2].tolist() == [0, 1, 0, 1, 10]  # padding reads token 0 and width 0 (ignored by the loss)


def test_head_loss_ignores_padding_and_predict_excludes_none():
    torch.manual_seed(0)
    head = SpanClassificationHead(8, 4, dropout=0.0, max_width=2)
    hidden = torch.randn(2, 5, 8)
    inputs = {"span_starts": torch.tensor([[1, 2], [1, 0]]), "span_ends": torch.tensor([[1, 3], [1, 0]]),
              "span_widths": torch.tensor([[0, 1], [0, -1]])}
    labels = torch.tensor([[2, 0], [1, IGNORE_INDEX]])
    out = head(hidden, labels, **inputs)
    kept = torch.nn.functional.cross_entropy(out["logits"][[0, 0, 1], [0, 1, 0]], torch.tensor([2, 0, 1]))
    assert out["logits"].shape == (2, 2, 4) and out["loss"].item() == pytest.approx(kept.item())
    entity, types, best = head.predict(out["logits"])
    probs = out["logits"].softmax(-1)
    assert torch.allclose(entity, 1 - probs[..., 0]) and int(types.max()) <= 2  # index into the types, not tags
    with pytest.raises(ValueError, match="pass span_starts, span_ends and span_widths"):
        head(hidden)


def test_span_taskspec_json_round_trip_and_old_files_load_as_bio():
    assert TaskSpec.from_json(SPAN.to_json()) == SPAN
    assert TaskSpec.from_json(SPAN.to_json()).span_threshold == 0.4
    assert SPAN.tag_labels == ("O", "ANAT", "CHEM", "DISO") and SPAN.num_outputs == 4
    assert set(BIO.to_json()) == {"name", "kind", "labels"}  # a BIO task's tasks.json entry is unchanged
    old = {"name": "quaero-2014", "kind": "ner", "labels": ["ANAT"]}
    assert TaskSpec.from_json(old).head == "bio"


def test_span_taskspec_errors_say_how_to_fix():
    with pytest.raises(ValueError, match="head 'crf' is unknown; use one of bio, span"):
        TaskSpec("x", "ner", ("A",), head="crf")
    with pytest.raises(ValueError, match="is for NER tasks, but this one is nli"):
        TaskSpec("x", "nli", ("A",), head="span")
    with pytest.raises(ValueError, match="needs max_span_width"):
        TaskSpec("x", "ner", ("A",), head="span").head_options
    with pytest.raises(ValueError, match="is for NER tasks"):
        task_for_corpus("medrqe", ner_head="span")
    assert task_for_corpus("quaero-2014", ner_head="span").head == "span"


@pytest.fixture
def saved(tiny, tmp_path: Path):
    _, model_dir = tiny
    torch.manual_seed(0)
    model, tokenizer = build_model(str(model_dir), (SPAN, BIO))
    with torch.no_grad():  # make the random span head say "entity" often, so that there is something to compare
        model.heads[SPAN.name].classifier[-1].bias[0] = -3.0
    meta = ModelMeta((SPAN, BIO), max_length=24, stride=6)
    return save_model(model, tokenizer, tmp_path / "model", meta), model.eval(), tokenizer, meta


def test_save_load_predict_round_trip_of_a_span_model(saved):
    out, model, tokenizer, meta = saved
    assert load_meta(out).tasks == (SPAN, BIO)
    original = Predictor(model, tokenizer, meta, torch.device("cpu")).predict(TEXTS)
    loaded = Predictor.load(out, device="cpu")
    again = loaded.predict(TEXTS)
    assert again == original
    spans = [(e["start"], e["end"]) for e in again[0][SPAN.name]]
    assert spans and len(spans) == len(set(spans))  # each span once, whatever the windows
    assert any(a[0] < b[1] and b[0] < a[1] and a != b for a in spans for b in spans)  # overlaps are kept
    for text, result in zip(TEXTS, again):
        for e in result[SPAN.name]:
            assert 0 <= e["start"] < e["end"] <= len(text) and e["type"] in SPAN.labels
            assert e["end"] - e["start"] <= len("fievre " * 3)  # at most max_span_width words
    assert set(again[0]) == {SPAN.name, BIO.name}


def test_one_encoder_pass_serves_span_and_bio_tasks(saved):
    out, _, _, _ = saved
    predictor = Predictor.load(out, device="cpu")
    calls = []
    predictor.model.encoder.register_forward_hook(lambda *args: calls.append(1))
    predictor.predict(TEXTS[:1])
    assert len(calls) == 1


def test_span_tasks_refuse_a_backend_without_span_inputs(saved):
    _, model, tokenizer, meta = saved

    class Exported:
        backend = "onnx"

    with pytest.raises(ValueError, match="served by the torch backend only"):
        Predictor(Exported(), tokenizer, meta)


def test_predict_cli_serves_a_span_model(saved, tmp_path: Path):
    out, _, _, _ = saved
    requests = tmp_path / "in.jsonl"
    requests.write_text(json.dumps({"id": "x", "text": TEXTS[0]}) + "\n")
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(out), "--input",
                           str(requests), "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    line = json.loads(done.stdout.splitlines()[0])
    assert line["id"] == "x" and line["entities"] == Predictor.load(out, device="cpu").predict(TEXTS[:1])[0]
    assert np.all([e["type"] in SPAN.labels for e in line["entities"][SPAN.name]])
