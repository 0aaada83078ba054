"""The training flows take every training setting as a parameter, derived from TrainConfig (mtclin.flow_params):
Prefect's own parameter schema holds each field with its default and help, a setting that no flow listed by hand
reaches the run's config, and an unknown name is refused naming it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from prefect.exceptions import ParameterBindError, ParameterTypeError
from prefect.utilities.callables import parameter_schema

from flows.baselines import train_baselines
from flows.learning_curve import learning_curve
from flows.train_multitask import FLOW_SET, train_multitask
from mtclin.run_dirs import as_saved
from mtclin.train.config import TrainConfig, setting_choices

# flow -> (the fields it sets itself, where it deliberately departs from TrainConfig's defaults)
FLOWS = {
    train_multitask: (FLOW_SET, {"checkpoint_every": 200}),
    train_baselines: (FLOW_SET + ("seed", "schedule"), {}),
    learning_curve: (FLOW_SET + ("corpora", "init", "keep_heads", "train_fraction", "seed"), {"epochs": 8}),
}
OWN = {train_multitask: {"project_dir", "experiment", "model_name", "register_model", "fresh"},
       train_baselines: {"seeds", "multitask_schedules", "multitask_seeds", "project_dir", "experiment"},
       learning_curve: {"corpus", "init", "fractions", "seeds", "project_dir", "experiment"}}


@pytest.mark.parametrize("flow", list(FLOWS), ids=lambda f: f.name)
def test_the_schema_holds_every_training_setting_with_its_default_and_help(flow) -> None:
    excluded, departures = FLOWS[flow]
    properties = parameter_schema(flow).model_dump()["properties"]
    fields = [f for f in dataclasses.fields(TrainConfig) if f.name not in excluded]
    assert set(properties) == {f.name for f in fields} | OWN[flow]
    defaults = TrainConfig().to_dict() | departures
    for f in fields:
        assert properties[f.name]["default"] == as_saved(defaults[f.name]), f.name
        assert properties[f.name]["description"] == " ".join(f.metadata["help"].split()), f.name
    for name, values in setting_choices().items():
        if name not in excluded:
            assert properties[name]["enum"] == list(values)  # the registry's schedules, the known selections


def test_an_unknown_or_invalid_parameter_is_refused_naming_it() -> None:
    # bound before any run starts (Flow.__call__), as `prefect deployment run` checks names against the schema
    with pytest.raises(ParameterBindError, match="unexpected keyword argument 'max_span_width'"):
        train_multitask(max_span_width=3)
    with pytest.raises(ParameterTypeError, match="schedule"):
        train_baselines.validate_parameters({"multitask_schedules": ["zigzag"]})
    with pytest.raises(ParameterTypeError, match="schedule"):
        train_multitask.validate_parameters({"schedule": "zigzag"})


@pytest.mark.slow
def test_settings_no_flow_listed_reach_the_run_and_init_is_fetched(prefect_harness, project: Path, tiny):
    from mtclin.tracking import store

    _, model_dir = tiny
    common = dict(project_dir=str(project), encoder=str(model_dir), epochs=1, learning_rate=1e-3, limit_eval=8)
    out = train_multitask(corpora=["i2b2-2010"], ner_heads={"i2b2-2010": "span"},
                          max_span_widths={"i2b2-2010": 3}, train_fraction=0.5, ner_batch_size=8, **common)
    config = json.loads((Path(out["run_dir"]) / "config.json").read_text())
    assert (config["max_span_widths"], config["train_fraction"]) == ({"i2b2-2010": 3}, 0.5)
    assert config["checkpoint_every"] == 200 and config["progress"] is False  # the flow's own, declared once
    client = store.client(store.tracking_uri(project))
    params = client.get_run(out["run_id"]).data.params
    assert (params["max_span_widths"], params["train_fraction"]) == ('{"i2b2-2010": 3}', "0.5")

    # init (a registry alias) is fetched for training and pinned to the version it pointed at
    second = train_multitask(corpora=["medrqe"], init="models:/mt-clinical-bert@candidate", pair_batch_size=8,
                             register_model=False, **common)
    pinned = f"models:/mt-clinical-bert/{out['version']}"
    assert json.loads((Path(second["run_dir"]) / "config.json").read_text())["init"] == pinned
    assert client.get_run(second["run_id"]).data.tags["mtclin.init"] == pinned
