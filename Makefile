# One-command entry points. `make demo` and `make test` each set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

# torch first, pinned: the local CPU build. Everything after it accepts that version.
$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,bench,ray]" $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

# The quickstart recipe: dedup -> report -> format -> LoRA on a tiny local Llama -> eval vs the base.
demo: setup
	$(BIN)/python -m dataforge.tiny demo_out/tiny-model
	$(BIN)/dataforge run recipes/quickstart.yaml

test: setup
	bash tests/setup_system_deps.sh
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/run_all.py $(ARGS)

lint: setup
	$(BIN)/ruff check dataforge plugins tests bench

clean:
	rm -rf $(VENV) demo_out
