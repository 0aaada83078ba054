"""Registering a trained model: log it as a pyfunc of a run, create a model version, point alias ``candidate`` at it.

All or nothing from the user's side: the alias moves only after the version is READY, its artifacts match the
saved model directory file for file, and it loads and answers the input example; when a step fails the new version
is deleted (it never carried an alias) and the error is raised. Each version carries the run's best primary
metric per task as tags (``metric.<task>.<metric>``), so the promotion gate needs nothing but the registry.
"""

from __future__ import annotations

from contextlib import nullcontext
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Any, Mapping

from mtclin.tracking import store

CANDIDATE = "candidate"
PRODUCTION = "production"
METRIC_TAG = "metric."  # model-version tag prefix: metric.<task>.<metric> = best-epoch value
MODEL_ARTIFACT = "model"  # the logged model's name within its run
# what the pyfunc needs at load time besides mtclin itself (installed from the checkout, not from PyPI)
RUNTIME_PACKAGES = ("mlflow", "torch", "transformers", "safetensors", "tokenizers", "numpy", "pandas")


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


def check_artifacts(client: Any, model_id: str, model_dir: Path) -> None:
    """Raise RegistrationError unless the logged model holds every file of ``model_dir`` with the same size."""
    prefix = f"artifacts/{MODEL_ARTIFACT}/"
    logged = {k[len(prefix):]: v for k, v in _logged_files(client, model_id, prefix.rstrip("/")).items()}
    local = _local_files(model_dir)
    wrong = sorted(k for k, size in local.items() if logged.get(k) != size)
    if wrong:
        raise RegistrationError(f"logged model {model_id} is incomplete: {len(wrong)} of {len(local)} files of "
                                f"{model_dir} missing or of another size (first: {wrong[0]}); nothing was aliased")


def log_and_register(run_id: str, model_dir: Path | str, primary: Mapping[str, tuple[str, float]],
                     name: str = store.DEFAULT_MODEL_NAME, uri: str | None = None, alias: str = CANDIDATE,
                     tags: Mapping[str, str] | None = None, verify: bool = True):
    """Log ``model_dir`` (a saved mtclin model) as the pyfunc model of run ``run_id``, register it as a new
    version of ``name`` tagged with ``primary`` ({task: (metric, best value)}) and ``tags``, and only then point
    ``alias`` at it. Returns the ModelVersion. ``verify``: load the version and predict the input example first.
    On failure no alias moves; a version already created is deleted; the error is raised."""
    import mlflow
    import mlflow.pyfunc

    import mtclin
    from mtclin.tracking import pyfunc

    model_dir = Path(model_dir)
    if not (model_dir / "tasks.json").is_file():
        raise RegistrationError(f"{model_dir} is not a saved mtclin model (no tasks.json); pass TrainResult.model_dir")
    uri = uri or store.tracking_uri()
    client = store.client(uri)
    with store.using(uri):
        active = mlflow.active_run()
        # log into the run: the caller's active run, or the finished training run reopened for the call
        with (mlflow.start_run(run_id=run_id) if active is None or active.info.run_id != run_id
              else nullcontext()):
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT, python_model=str(Path(pyfunc.__file__).with_name("model_code.py")),
                artifacts={pyfunc.ARTIFACT_KEY: str(model_dir)}, signature=pyfunc.signature(),
                input_example=pyfunc.input_example(), pip_requirements=pip_requirements(),
                metadata={"mtclin_version": mtclin.__version__, "source_run_id": run_id})
        mv = None
        try:
            check_artifacts(client, info.model_id, model_dir)
            # register_model waits until the version is READY (or raises)
            mv = mlflow.register_model(info.model_uri, name, tags=metric_tags(primary) | dict(tags or {}))
            mv = client.get_model_version(name, mv.version)
            if mv.status != "READY":
                raise RegistrationError(f"model version {name}/{mv.version} is {mv.status}, not READY")
            if verify:
                loaded = mlflow.pyfunc.load_model(f"models:/{name}/{mv.version}")
                answers = loaded.predict(pyfunc.input_example())
                if len(answers) != 2 or "entities" not in answers[0] or "pair" not in answers[1]:
                    raise RegistrationError(f"model version {name}/{mv.version} gave no answer to the input example")
            client.set_registered_model_alias(name, alias, mv.version)
        except BaseException:
            if mv is not None:
                client.delete_model_version(name, mv.version)
            client.set_logged_model_tags(info.model_id, {"mtclin.registration": "failed"})
            raise
    return client.get_model_version(name, mv.version)
