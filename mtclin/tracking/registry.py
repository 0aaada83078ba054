"""Registering a trained model: log it as a pyfunc of a run, create a model version, point alias ``candidate`` at it.

All or nothing from the user's side: the alias moves only after the version is READY, its artifacts match the
saved model directory file for file, and it loads and answers the input example; when a step fails the new version
is deleted (it never carried an alias) and the error is raised. Each version carries the run's best primary
metric per task as tags (``metric.<task>.<metric>``), so the promotion gate needs nothing but the registry.

ONNX (``onnx=True``, the default; skipped for a model with span NER heads, which the graph cannot hold): the
version also carries the fp32 and int8 ONNX exports of the same weights as extra artifacts of its pyfunc (``onnx``,
``onnx-int8``), so ``MTCLIN_BACKEND=onnx mlflow models serve`` serves the very version the aliases point at. They are extra artifacts rather than a second version because they are not a
new model: the metric tags, the promotion gate and the aliases all describe the weights, and a second version
would duplicate the tags, show up as a new candidate, and let the two backends drift to different aliases.
Versions are immutable, so the exports are made at registration; the fp32 one must answer the input example
exactly as torch does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager, nullcontext
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Any, Iterator, Mapping

from mtclin.tracking import store

CANDIDATE = "candidate"
PRODUCTION = "production"
METRIC_TAG = "metric."  # model-version tag prefix: metric.<task>.<metric> = best-epoch value
MODEL_ARTIFACT = "model"  # the logged model's name within its run
# what the pyfunc needs at load time besides mtclin itself (installed from the checkout, not from PyPI)
RUNTIME_PACKAGES = ("mlflow", "torch", "transformers", "safetensors", "tokenizers", "numpy", "pandas", "onnxruntime")


class RegistrationError(RuntimeError):
    pass


def pip_requirements() -> list[str]:
    """The serving environment's pins, taken from this environment (no slow requirement inference)."""
    out = []
    for name in RUNTIME_PACKAGES:
        try:
            out.append(f"{name}=={package_version(name)}")
        except PackageNotFoundError:
            out.append(name)
    return out


def metric_tags(primary: Mapping[str, tuple[str, float]]) -> dict[str, str]:
    """``{task: (metric, value)}`` -> ``{"metric.<task>.<metric>": "<value>"}``."""
    return {f"{METRIC_TAG}{task}.{metric}": repr(float(value)) for task, (metric, value) in primary.items()}


def version_metrics(tags: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    """The inverse of :func:`metric_tags`, read from a model version's tags: ``{task: (metric, value)}``."""
    out = {}
    for key, value in tags.items():
        if key.startswith(METRIC_TAG):
            task, _, metric = key[len(METRIC_TAG):].rpartition(".")
            out[task] = (metric, float(value))
    return out


def resolve_version(client: Any, name: str, version_or_alias: str | int):
    """A ModelVersion by number ("3", 3) or alias ("candidate")."""
    ref = str(version_or_alias)
    return client.get_model_version(name, ref) if ref.isdigit() else client.get_model_version_by_alias(name, ref)


def _local_files(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _logged_files(client: Any, model_id: str, path: str) -> dict[str, int]:
    out = {}
    for item in client.list_logged_model_artifacts(model_id, path):
        if item.is_dir:
            out.update(_logged_files(client, model_id, item.path))
        else:
            out[item.path] = item.file_size
    return out


def check_artifacts(client: Any, model_id: str, model_dir: Path, key: str = "model") -> None:
    """Raise RegistrationError unless the logged model holds every file of ``model_dir`` with the same size under
    its pyfunc artifact ``key``."""
    prefix = f"artifacts/{key}/"
    logged = {k[len(prefix):]: v for k, v in _logged_files(client, model_id, prefix.rstrip("/")).items()}
    local = _local_files(model_dir)
    wrong = sorted(k for k, size in local.items() if logged.get(k) != size)
    if wrong:
        raise RegistrationError(f"logged model {model_id} is incomplete: {len(wrong)} of {len(local)} files of "
                                f"{model_dir} missing or of another size (first: {wrong[0]}); nothing was aliased")


def _named(directory: Path, name: str, scratch: Path) -> Path:
    """``directory`` under the name ``name``: MLflow stores a directory artifact under its own name, and the pyfunc
    and tracking.fetch read the model at artifacts/model (a copy when named otherwise: MLflow refuses links)."""
    if directory.name == name:
        return directory
    shutil.copytree(directory, scratch / name)
    return scratch / name


def onnx_artifacts(model_dir: Path, out: Path) -> dict[str, str]:
    """Export ``model_dir`` once per ONNX backend (fp32, int8) under ``out``: ``{artifact key: export dir}``."""
    from mtclin.export.onnx import export_onnx_all
    from mtclin.tracking import pyfunc

    # one trace and check for both precisions
    keys = {quantize or "fp32": pyfunc.BACKEND_ARTIFACTS[backend] for backend, quantize in pyfunc.ONNX_PRECISIONS.items()}
    export_onnx_all(model_dir, {precision: out / key for precision, key in keys.items()})
    return {key: str(out / key) for key in keys.values()}


def _decisions(answers: list[dict[str, Any]]) -> list[Any]:
    """What must not differ between backends: entity spans and types, and labels (not scores)."""
    out = []
    for a in answers:
        entities = {t: [(e["start"], e["end"], e["type"]) for e in v] for t, v in a.get("entities", {}).items()}
        out.append((entities, {t: v.get("label") for t, v in a.get("pair", {}).items()}))
    return out


@contextmanager
def _without_env(name: str) -> Iterator[None]:
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


def verify_version(model_uri: str, backends: list[str]) -> None:
    """Load ``model_uri`` with every backend and answer the input example; raise RegistrationError when it gives
    no answer, or when the fp32 ONNX export decides differently from torch. The version is downloaded once (what
    a server would fetch) and loaded from there per backend."""
    import mlflow.artifacts
    import mlflow.pyfunc

    from mtclin.tracking import pyfunc

    answers = {}
    # each backend as asked for: a MTCLIN_BACKEND of this process (meant for a server) would override them all
    with tempfile.TemporaryDirectory(prefix="mtclin-verify-") as tmp, _without_env(pyfunc.BACKEND_ENV):
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)
        for backend in backends:
            loaded = mlflow.pyfunc.load_model(local, model_config={"backend": backend})
            answers[backend] = got = loaded.predict(pyfunc.input_example())
            if len(got) != 2 or "entities" not in got[0] or "pair" not in got[1]:
                raise RegistrationError(f"model version {model_uri} gave no answer to the input example ({backend})")
    if "onnx" in answers and _decisions(answers["onnx"]) != _decisions(answers["torch"]):
        raise RegistrationError(f"model version {model_uri}: the fp32 ONNX export answers the input example "
                                "differently from torch; register with onnx=False and report the model")


def log_and_register(run_id: str, model_dir: Path | str, primary: Mapping[str, tuple[str, float]],
                     name: str = store.DEFAULT_MODEL_NAME, uri: str | None = None, alias: str = CANDIDATE,
                     tags: Mapping[str, str] | None = None, verify: bool = True, onnx: bool = True):
    """Log ``model_dir`` (a saved mtclin model) as the pyfunc model of run ``run_id``, register it as a new
    version of ``name`` tagged with ``primary`` ({task: (metric, best value)}) and ``tags``, and only then point
    ``alias`` at it. Returns the ModelVersion. ``verify``: load the version (every backend) and predict the input
    example first. ``onnx``: export fp32 and int8 ONNX graphs and carry them as extra artifacts of the version
    (skipped for a model with span, assertion or relation tasks, which only the torch backend serves).
    On failure no alias moves; a version already created is deleted; the error is raised."""
    import mlflow
    import mlflow.pyfunc

    import mtclin
    from mtclin.export.onnx import refused_tasks
    from mtclin.tracking import pyfunc

    model_dir = Path(model_dir)
    if not (model_dir / "tasks.json").is_file():
        raise RegistrationError(f"{model_dir} is not a saved mtclin model (no tasks.json); pass TrainResult.model_dir")
    uri = uri or store.tracking_uri()
    client = store.client(uri)
    with store.using(uri), tempfile.TemporaryDirectory(prefix="mtclin-onnx-") as exports:
        artifacts = {pyfunc.ARTIFACT_KEY: str(_named(model_dir, pyfunc.ARTIFACT_KEY, Path(exports)))}
        # a model with span / link heads has no ONNX export (export.onnx.refused_tasks): torch serves it alone
        if onnx and not refused_tasks(model_dir):
            try:  # before anything is logged: a failed export leaves no trace in the run or the registry
                artifacts |= onnx_artifacts(model_dir, Path(exports))
            except Exception as err:
                raise RegistrationError(f"{model_dir}: the ONNX export failed ({err}); nothing was registered "
                                        "(register with onnx=False to go without the ONNX backends)") from err
        active = mlflow.active_run()
        # log into the run: the caller's active run, or the finished training run reopened for the call
        with (mlflow.start_run(run_id=run_id) if active is None or active.info.run_id != run_id
              else nullcontext()):
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT, python_model=str(Path(pyfunc.__file__).with_name("model_code.py")),
                artifacts=artifacts, signature=pyfunc.signature(), model_config={"backend": "torch"},
                input_example=pyfunc.input_example(), pip_requirements=pip_requirements(),
                metadata={"mtclin_version": mtclin.__version__, "source_run_id": run_id})
        mv = None
        try:
            for key, path in artifacts.items():
                check_artifacts(client, info.model_id, Path(path), key)
            # register_model waits until the version is READY (or raises)
            mv = mlflow.register_model(info.model_uri, name, tags=metric_tags(primary) | dict(tags or {}))
            mv = client.get_model_version(name, mv.version)
            if mv.status != "READY":
                raise RegistrationError(f"model version {name}/{mv.version} is {mv.status}, not READY")
            if verify:
                verify_version(f"models:/{name}/{mv.version}",
                               [b for b, key in pyfunc.BACKEND_ARTIFACTS.items() if key in artifacts])
            client.set_registered_model_alias(name, alias, mv.version)
        except BaseException:
            if mv is not None:
                client.delete_model_version(name, mv.version)
            client.set_logged_model_tags(info.model_id, {"mtclin.registration": "failed"})
            raise
    return client.get_model_version(name, mv.version)
