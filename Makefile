# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Both create the virtualenv and install everything on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch first: an open range would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[train,dev]"
	touch $(STAMP)

# the main job: a short PPO run on the default scenario (community), then the paired
# evaluation against the prototypes on held-out seeds; everything lands in runs/demo/
DEMO_STEPS ?= 40000
DEMO_SEEDS ?= 5
demo: $(STAMP)
	$(PY) train.py --scenario community --timesteps $(DEMO_STEPS) --n-envs 2 \
		--out runs/demo
	$(PY) evaluate.py --run runs/demo --n-seeds $(DEMO_SEEDS) --out runs/demo/eval

test: $(STAMP)
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check rex_env agents tests benchmarks examples train.py evaluate.py
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/bench_exchange.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache .hypothesis
