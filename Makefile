# The two commands of the README:
#   make train  installs minigrad with the example extras into .venv/ and trains the digits CNN
#   make test   installs everything (PyTorch, Graphviz's dot too) and runs the whole test suite
#   make casting [DATA=dir] trains the PyTorch casting-defect CNN (docs/casting.md)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# PyTorch builds known to install here from the local wheel cache on Python 3.11 / x86_64.
TORCH := torch==2.14.1 torchvision==0.29.1

DATA ?= data/synthetic_casting

.PHONY: train test install install-dev graphviz casting clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PIP) install -q -e '.[examples]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev graphviz

graphviz:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq graphviz >/dev/null; fi; }
	@dot -V

train: install
	$(PY) examples/train_digits.py

test: install-dev
	$(PY) -m pytest -n 2 -q

# The PyTorch casting trainer: make casting DATA=path/to/casting_data. Without DATA it makes
# (once) and uses the synthetic look-alike in data/synthetic_casting.
casting: $(VENV)/.installed-dev
	@if [ "$(DATA)" = data/synthetic_casting ] && [ ! -d $(DATA) ]; then \
	  $(PY) -m examples.casting.make_synthetic --out $(DATA); fi
	$(PY) -m examples.casting.train --data $(DATA)

clean:
	rm -rf $(VENV) outputs .pytest_cache
