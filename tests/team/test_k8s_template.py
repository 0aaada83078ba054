"""The Kubernetes GPU work pool's job template (deploy/k8s-gpu-job-template.json) against Prefect's own checks:
the server's base-job-template validation (what `prefect work-pool create --base-job-template` runs), and the
prefect-kubernetes worker's job configuration, rendered with the `train-multitask/gpu` deployment's variables."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((REPO / "deploy" / "k8s-gpu-job-template.json").read_text())


def gpu_job_variables() -> dict:
    deployments = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    gpu = next(d for d in deployments if d["name"] == "gpu")
    return dict(gpu["work_pool"]["job_variables"]) | {"image": "registry.example/mtclin:cuda",
                                                        "env": {"MLFLOW_TRACKING_URI": "http://mlflow:5000"}}


def test_template_passes_prefect_server_validation() -> None:
    from prefect.server.schemas.actions import validate_base_job_template

    validate_base_job_template(TEMPLATE)
    jsonschema.Draft202012Validator.check_schema(TEMPLATE["variables"])
    jsonschema.validate(gpu_job_variables(), TEMPLATE["variables"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gpu_count": 0}, TEMPLATE["variables"])


def test_template_renders_a_valid_kubernetes_gpu_job() -> None:
    worker = pytest.importorskip("prefect_kubernetes.worker")

    default = worker.KubernetesWorker.get_default_base_job_template()
    assert set(default["job_configuration"]) - {"annotations"} <= set(TEMPLATE["job_configuration"])

    class NoApi:  # the template references no block or variable: the worker needs no API to render it
        pass

    config = asyncio.run(worker.KubernetesWorkerJobConfiguration.from_template_and_values(
        TEMPLATE, gpu_job_variables(), client=NoApi()))
    pod = config.job_manifest["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/mtclin:cuda"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert config.env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
