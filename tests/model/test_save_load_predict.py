from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mtclin.inference import Predictor
from mtclin.model.io import ModelMeta, build_model, load_model, save_model
from mtclin.tasks import task_for_corpus

TASKS = tuple(task_for_corpus(c) for c in ("n2c2-2018", "quaero-2014", "medrqe", "mednli", "n2c2-2019"))
TEXTS = ["patient takes aspirin 81 mg daily for chest pain .", "", "fever " * 300]
PAIRS = [("does aspirin cause bleeding ?", "what are the side effects of aspirin ?"), ("a", "b")]


@pytest.fixture
def saved(tiny, tmp_path: Path) -> tuple[Path, torch.nn.Module, object]:
    _, model_dir = tiny
    torch.manual_seed(0)
    model, tokenizer = build_model(str(model_dir), TASKS)
    out = save_model(model, tokenizer, tmp_path / "model", ModelMeta(TASKS, max_length=32, stride=8))
    return out, model.eval(), tokenizer


def test_directory_is_safetensors_and_json_only(saved):
    out, _, _ = saved
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"tasks.json", "heads.safetensors", "encoder/model.safetensors", "encoder/config.json"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pickle"))]
    meta = json.loads((out / "tasks.json").read_text())
    assert [t["name"] for t in meta["tasks"]] == [t.name for t in TASKS]
    assert meta["tasks"][0]["kind"] == "ner" and "Drug" in meta["tasks"][0]["labels"]


def test_save_load_predict_gives_identical_outputs(saved):
    out, model, tokenizer = saved
    meta = ModelMeta(TASKS, max_length=32, stride=8)
    original = Predictor(model, tokenizer, meta, torch.device("cpu"))
    loaded = Predictor.load(out, device="cpu")
    assert loaded.predict(TEXTS) == original.predict(TEXTS)
    assert loaded.predict_pairs(PAIRS) == original.predict_pairs(PAIRS)
    reloaded, _, _ = load_model(out)
    for (k, a), (_, b) in zip(model.state_dict().items(), reloaded.state_dict().items()):
        assert torch.equal(a, b), k


def test_one_encoder_pass_serves_every_task(saved):
    out, _, _ = saved
    predictor = Predictor.load(out, device="cpu")
    calls = []
    predictor.model.encoder.register_forward_hook(lambda *args: calls.append(1))
    results = predictor.predict(TEXTS[:1])
    assert set(results[0]) == {"n2c2-2018", "quaero-2014"} and len(calls) == 1
    calls.clear()
    pair_results = predictor.predict_pairs(PAIRS[:1])
    assert set(pair_results[0]) == {"medrqe", "mednli", "n2c2-2019"} and len(calls) == 1
    score = pair_results[0]["n2c2-2019"]["score"]
    assert 0.0 <= score <= 5.0
    probs = pair_results[0]["mednli"]["probabilities"]
    assert set(probs) == {"contradiction", "entailment", "neutral"} and sum(probs.values()) == pytest.approx(1.0)


def test_predicted_spans_are_inside_the_text(saved):
    out, _, _ = saved
    predictor = Predictor.load(out, device="cpu")
    for text, result in zip(TEXTS, predictor.predict(TEXTS)):
        for entities in result.values():
            for e in entities:
                assert 0 <= e["start"] < e["end"] <= len(text)


def test_predict_cli_reads_and_writes_json_lines(saved, tmp_path: Path):
    out, _, _ = saved
    requests = tmp_path / "in.jsonl"
    requests.write_text(json.dumps({"id": "x1", "text": TEXTS[0]}) + "\n" + json.dumps({"a": "a", "b": "b"}) + "\n")
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(out), "--input",
                           str(requests), "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["id"] == "x1" and set(lines[0]["entities"]) == {"n2c2-2018", "quaero-2014"}
    assert set(lines[1]["pair"]) == {"medrqe", "mednli", "n2c2-2019"}
    requests.write_text("{not json\n")
    bad = subprocess.run([sys.executable, "-m", "mtclin.cli", "predict", "--model", str(out), "--input",
                          str(requests)], capture_output=True, text=True)
    assert bad.returncode == 2 and "in.jsonl:1" in bad.stderr


def test_onnx_backend_answers_like_torch(saved, tmp_path: Path):
    """The same Predictor over the fp32 ONNX export: the same entities and labels, scores within 1e-4."""
    from mtclin.export.onnx import export_onnx

    out, _, _ = saved
    export_onnx(out, tmp_path / "onnx")
    torch_p, onnx_p = Predictor.load(out, device="cpu"), Predictor.load(tmp_path / "onnx", backend="onnx")
    for a, b in zip(torch_p.predict(TEXTS), onnx_p.predict(TEXTS)):
        assert a.keys() == b.keys()
        for task in a:
            assert [(e["start"], e["end"], e["type"]) for e in a[task]] == \
                [(e["start"], e["end"], e["type"]) for e in b[task]]
            assert all(abs(x["score"] - y["score"]) <= 1e-4 for x, y in zip(a[task], b[task]))
    for a, b in zip(torch_p.predict_pairs(PAIRS), onnx_p.predict_pairs(PAIRS)):
        assert a["mednli"]["label"] == b["mednli"]["label"] and a["medrqe"]["label"] == b["medrqe"]["label"]
        assert a["n2c2-2019"]["score"] == pytest.approx(b["n2c2-2019"]["score"], abs=1e-4)


def test_each_task_is_encoded_at_the_length_it_was_trained_with(saved):
    """A task trained with its own length (TrainConfig.max_lengths, kept in ModelMeta) is served at that length:
    its entities / labels are those of a model whose global length is that one, and the window count shows it."""
    out, model, tokenizer = saved
    per_task = ModelMeta(TASKS, max_length=32, stride=8, max_lengths={"quaero-2014": 64, "mednli": 16})
    mixed = Predictor(model, tokenizer, per_task)
    at_64 = Predictor(model, tokenizer, ModelMeta(TASKS, max_length=64, stride=8))
    at_32 = Predictor(model, tokenizer, ModelMeta(TASKS, max_length=32, stride=8))
    at_16 = Predictor(model, tokenizer, ModelMeta(TASKS, max_length=32, stride=8, pair_max_length=16))
    got = mixed.predict(TEXTS)
    assert [r["quaero-2014"] for r in got] == [r["quaero-2014"] for r in at_64.predict(TEXTS)]
    assert [r["quaero-2014"] for r in got] != [r["quaero-2014"] for r in at_32.predict(TEXTS)]  # the length shows
    assert [r["n2c2-2018"] for r in got] == [r["n2c2-2018"] for r in at_32.predict(TEXTS)]
    pairs = mixed.predict_pairs(PAIRS)
    assert [p["mednli"] for p in pairs] == [p["mednli"] for p in at_16.predict_pairs(PAIRS)]
    assert [p["medrqe"] for p in pairs] == [p["medrqe"] for p in at_32.predict_pairs(PAIRS)]
    assert [p["mednli"] for p in pairs] != [p["mednli"] for p in at_32.predict_pairs(PAIRS)]
    calls = []
    hook = model.encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        mixed.predict(TEXTS[2:])  # one long text: a 64-subword pass for quaero, a 32-subword one for n2c2-2018
    finally:
        hook.remove()
    assert len(calls) == 2
