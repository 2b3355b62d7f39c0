# shadow — run `make help` for the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) ## create .venv and install shadow with its dev tools

demo: $(STAMP) ## run the whole pipeline on the bundled sample (embedded chDB) and print the summary
	$(BIN)/shadow demo

test: $(STAMP) ## run every test (starts a local Kafka from Maven Central jars when none is configured)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check shadow tests benchmarks scripts deploy examples
	$(BIN)/ruff format --check shadow tests benchmarks scripts deploy examples
	$(BIN)/mypy

format: $(STAMP) ## apply ruff's formatter and fixes
	$(BIN)/ruff format shadow tests benchmarks scripts deploy examples
	$(BIN)/ruff check --fix shadow tests benchmarks scripts deploy examples

schemas: $(STAMP) ## regenerate schemas/mirror_event.v1.schema.json from the model
	$(BIN)/shadow schema > schemas/mirror_event.v1.schema.json

readme: $(STAMP) ## regenerate the configuration reference in README.md
	$(BIN)/python scripts/update_readme.py

kafka-start: ## start the local single-node Kafka (scripts/kafka-local.sh)
	scripts/kafka-local.sh start

kafka-stop: ## stop the local Kafka
	scripts/kafka-local.sh stop

faults: $(STAMP) ## the fault suite at the figures' sizes: tests/faults/figures.json and the README's table (about 12 min; run it alone)
	$(BIN)/python -m tests.faults --readme

bench: $(STAMP) ## the throughput suite: every goal of benchmarks/README.md in one table (about 26 min; run it alone)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP) ## the throughput suite with shorter runs (about 11 min)
	$(BIN)/python benchmarks/run_all.py --quick

bench-guards: $(STAMP) ## the robustness benchmarks: response guards, hostile inputs, circuit breaker
	$(BIN)/python benchmarks/response_guards.py
	$(BIN)/python benchmarks/hostile_inputs.py
	$(BIN)/python benchmarks/breaker_throughput.py

clean: ## remove .venv and local state (.shadow/)
	rm -rf $(VENV) .shadow .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install demo test lint format schemas readme kafka-start kafka-stop faults bench bench-quick bench-guards clean
