"""Flow `learning-curve`: a corpus on growing shares of its train split, from the plain encoder and from a
registered model's encoder; the curve is logged to the parent run."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.learning_curve import learning_curve
from flows.train_multitask import train_multitask
from mtclin.tracking import store
from mtclin.tracking.compare import search_training_runs


@pytest.mark.slow
def test_curve_from_the_encoder_and_from_a_registered_model(prefect_harness, project: Path, tiny):
    _, model_dir = tiny
    trained = train_multitask(project_dir=str(project), encoder=str(model_dir), corpora=["medrqe"], epochs=1,
                              pair_batch_size=8, learning_rate=1e-3)
    out = learning_curve(corpus="n2c2-2019", init="models:/mt-clinical-bert@candidate", fractions=[0.25, 1.0],
                         seeds=[0], encoder=str(model_dir), epochs=1, learning_rate=1e-3, project_dir=str(project))
    assert out["init"] == f"models:/mt-clinical-bert/{trained['version']}" and out["runs"] == 4  # the alias, pinned
    uri = store.tracking_uri(project)
    client = store.client(uri)
    runs = search_training_runs(uri=uri, parent=out["parent_run_id"])
    assert sorted((r.data.tags.get("mtclin.init", ""), r.data.tags["mtclin.train_fraction"]) for r in runs) == [
        ("", "0.25"), ("", "1.0"), (out["init"], "0.25"), (out["init"], "1.0")]
    steps = {(bool(r.data.tags.get("mtclin.init")), r.data.tags["mtclin.train_fraction"]): r.data.metrics["steps"]
             for r in runs}
    assert steps[(False, "0.25")] < steps[(False, "1.0")]  # a quarter of the pairs, fewer batches
    md = Path(client.download_artifacts(out["parent_run_id"], "curve/curve.md")).read_text()
    assert "| 25 % |" in md and "| 100 % |" in md and "init = models:/mt-clinical-bert/" in md
    assert Path(client.download_artifacts(out["parent_run_id"], "curve/curve.png")).read_bytes()[:4] == b"\x89PNG"
