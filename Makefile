# One-command entry points. `make demo` and `make test` each set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: setup demo test bench lint clean mutation

setup: $(STAMP)

# torch first, pinned: the local CPU build. Everything after it accepts that version.
$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,bench,ray]" $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

# The quickstart recipe: dedup -> report -> format -> train a tiny random Llama on a toy task -> eval
# before vs after on held-out cases, then what the table means. One torch thread: on 2 busy cores two
# threads spun against each other (100 training steps: 45 s with one thread, 4 min 50 s with two).
demo: setup
	$(BIN)/python -m dataforge.tiny demo_out/tiny-model
	OMP_NUM_THREADS=1 $(BIN)/dataforge run recipes/quickstart.yaml
	@$(BIN)/python -m dataforge.tiny --summary demo_out/quickstart

test: setup
	bash tests/setup_system_deps.sh
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/run_all.py $(ARGS)

# Mutation testing (slow, not part of `make test`): plant faults in each area's core modules, run its
# tests, write per-module scores to bench/RESULTS-mutation.md. `make mutation AREA=io LABEL=after`.
AREA ?=
LABEL ?= latest
mutation: setup
	nice -n 10 $(BIN)/python tools/mutation.py --label $(LABEL) $(AREA)

lint: setup
	$(BIN)/ruff check dataforge plugins tests bench

clean:
	rm -rf $(VENV) demo_out
