# Every target sets up its own virtual environment (.venv) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A fresh hypothesis seed per run, printed in pytest's header; `make test SEED=123` replays one.
SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')

.PHONY: test demo bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test,dev]"
	touch $@

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy tinygrad_lite
	$(BIN)/pytest --hypothesis-profile=ci --hypothesis-seed=$(SEED)

demo: $(VENV)/.installed
	$(BIN)/tinygrad-lite demo all --out demo-output

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
