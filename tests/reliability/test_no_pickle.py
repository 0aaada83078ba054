"""Nothing leaked in through pickle: saved models are safetensors + JSON, loading one never unpickles, and
checkpoints' trainer state loads with ``torch.load(weights_only=True)``, which refuses code-carrying objects."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest
import torch

import mtclin
from mtclin.inference import Predictor
from mtclin.model.io import ModelMeta, build_model, load_model, save_model
from mtclin.tasks import task_for_corpus
from mtclin.train.checkpoint import load_checkpoint, save_checkpoint
from tests.toy_tasks import TOY_CORPORA

# encoder/config.json, tokenizer/tokenizer.json and friends, tasks.json; vocab.txt / merges.txt for tokenizers
# that keep their vocabulary as text
ALLOWED_SUFFIXES = {".safetensors", ".json", ".txt"}
PACKAGE = Path(mtclin.__file__).parent


@pytest.fixture(scope="module")
def saved_model(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, encoder = tiny
    tasks = [task_for_corpus(c) for c in TOY_CORPORA]
    model, tokenizer = build_model(str(encoder), tasks)
    return save_model(model, tokenizer, tmp_path_factory.mktemp("saved") / "model", ModelMeta(tuple(tasks)))


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way into the unpickler raises, so a hidden pickle load fails the test instead of passing quietly."""

    def refuse(*args, **kwargs):
        raise AssertionError("an artifact was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(torch.serialization, "load", refuse)
    with pytest.raises(AssertionError):
        pickle.loads(pickle.dumps(1))


def test_saved_model_holds_only_safetensors_and_json(saved_model: Path):
    files = [p for p in saved_model.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= ALLOWED_SUFFIXES, sorted(map(str, files))
    for path in files:  # and each is what its name says, not a pickle under another name
        data = path.read_bytes()
        if path.suffix == ".safetensors":  # 8-byte little-endian header length, a JSON header, raw tensor bytes
            size = int.from_bytes(data[:8], "little")
            assert isinstance(json.loads(data[8:8 + size]), dict), path
        elif path.suffix == ".json":
            json.loads(data)
        else:
            data.decode("utf-8")
    assert (saved_model / "heads.safetensors").is_file() and (saved_model / "encoder" / "model.safetensors").is_file()


def test_loading_a_model_never_unpickles(saved_model: Path, no_unpickling):
    model, _, meta = load_model(saved_model)
    assert set(model.heads) == set(TOY_CORPORA) and [t.name for t in meta.tasks] == list(TOY_CORPORA)
    predictor = Predictor.load(saved_model, device="cpu")
    assert set(predictor.predict(["patient takes aspirin daily ."])[0]) == {"n2c2-2018"}
    assert set(predictor.predict_pairs([("fever resolved .", "the fever resolved .")])[0]) == {"medrqe", "n2c2-2019"}


class Payload:
    """Unpickling this runs code: ``__reduce__`` names a callable and its arguments."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


@pytest.fixture
def checkpoint(tmp_path: Path) -> tuple[Path, torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    return save_checkpoint(tmp_path / "ckpt", 1, model, optimizer, None, {"epoch": 0}), model, optimizer


def test_checkpoint_trainer_state_loads_weights_only(checkpoint, monkeypatch: pytest.MonkeyPatch):
    path, model, optimizer = checkpoint
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    assert load_checkpoint(path, model, optimizer, None)["step"] == 1
    assert calls and all(kw.get("weights_only") is True for kw in calls)


def test_checkpoint_with_a_code_carrying_object_is_refused(checkpoint, tmp_path: Path):
    path, model, optimizer = checkpoint
    marker = tmp_path / "pwned"
    torch.save({"optimizer": Payload(marker), "scaler": None, "rng": {}}, path / "trainer.pt")
    with pytest.raises(pickle.UnpicklingError, match="[Ww]eights only"):
        load_checkpoint(path, model, optimizer, None)
    assert not marker.exists()
    # the payload is live: a plain unpickle would have run it
    torch.load(path / "trainer.pt", weights_only=False)
    assert marker.read_text() == "unpickled"


# --- the package's sources ------------------------------------------------------------------------------------

PICKLERS = {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "joblib", "shelve", "marshal"}


def pickle_uses(source: str) -> list[str]:
    """Lines of ``source`` that import a pickler, call ``torch.load`` without ``weights_only=True``, or reach
    for pickle by name (``read_pickle``, ``allow_pickle=True``, ``pickle_module=``...)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            found += [f"{line}: import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLERS]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in PICKLERS or (module == "torch" and any(a.name == "load" for a in node.names)):
                found.append(f"{line}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "load" and \
                    isinstance(func.value, ast.Name) and func.value.id == "torch":
                safe = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                           for k in node.keywords)
                if not safe:
                    found.append(f"{line}: torch.load without weights_only=True")
            found += [f"{line}: {k.arg}=" for k in node.keywords if k.arg and "pickle" in k.arg.lower()
                      and not (isinstance(k.value, ast.Constant) and k.value.value is False)]
        elif isinstance(node, ast.Attribute) and "pickle" in node.attr.lower():
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.Name) and "pickle" in node.id.lower():
            found.append(f"{line}: {node.id}")
    return found


@pytest.mark.parametrize("snippet", [
    "import pickle", "import joblib as jl", "from dill import loads", "from torch import load",
    "torch.load(f)", "torch.load(f, weights_only=False)", "torch.load(f, weights_only=flag)",
    "pd.read_pickle(f)", "np.load(f, allow_pickle=True)", "mlflow.pyfunc.save_model(p, python_model=m, "
    "pickle_module=cloudpickle)",
])
def test_the_scan_catches_pickle(snippet: str):
    assert pickle_uses(snippet), snippet


def test_the_scan_allows_safe_loading():
    assert pickle_uses('torch.load(f, map_location="cpu", weights_only=True)\n"""no pickle here"""\n'
                       "np.load(f, allow_pickle=False)  # pickle in a comment\n") == []


def test_package_sources_never_unpickle():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20  # the scan really walked the package
    found = [f"{p.relative_to(PACKAGE.parent)}:{use}" for p in sources for use in pickle_uses(p.read_text())]
    assert found == [], "pickle in mtclin (use safetensors / JSON, or torch.load(..., weights_only=True)):\n" + \
        "\n".join(found)
