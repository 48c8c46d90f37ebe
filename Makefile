# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Both create the virtualenv and install everything on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-core test-sanitize sanitize test-rllib test-clients test-torchrl \
	test-benchmarl test-tianshou lint bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch first: an open range would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[train,dev]"
	touch $(STAMP)

# the main job: the per-role table of the default market (community: wholesale-indexed grid,
# single-price settlement) for a short budget, beside the README's full-budget table. Every
# role (households, pv_battery, wind, plant, storage) learns alone with everyone else
# hand-coded, one training seed, DEMO_SCALE x the full budgets of benchmarks/roles.py, then
# random, prototype, strong baseline, PPO and the perfect-foresight bound are scored on
# DEMO_SEEDS held-out seeds (plus DEMO_CHECKPOINTS points of the learning curve); the full
# table is benchmarks/results/roles_full.json (benchmarks/roles.py --publish). Everything lands
# in runs/demo/ (table.md, learning_curves.png, one folder per role). DEMO_ROLE=storage (any
# role) demos one role; DEMO_SETTLEMENT=curtail for hard "no reservation, no service" (empty:
# the scenario's own).
DEMO_ROLE ?=
DEMO_ROLES ?= $(or $(DEMO_ROLE),households pv_battery wind plant storage)
DEMO_SCALE ?= 0.12
DEMO_SEEDS ?= 4
DEMO_CHECKPOINTS ?= 3
DEMO_SETTLEMENT ?=
DEMO_OUT ?= runs/demo
demo: $(STAMP)
	$(PY) benchmarks/roles.py --scenario community --roles $(DEMO_ROLES) --seeds 0 \
		--scale $(DEMO_SCALE) --n-seeds $(DEMO_SEEDS) --checkpoints $(DEMO_CHECKPOINTS) \
		$(if $(DEMO_SETTLEMENT),--settlement $(DEMO_SETTLEMENT)) --out $(DEMO_OUT) \
		--reference benchmarks/results/roles_full.json

# the whole suite: lint (ruff, mypy), the core in .venv (both exchange engines, sb3-contrib included), the C core
# under sanitizers, then the Ray RLlib adapter and the other RL clients, each in its own venv
# (ray pins gymnasium 1.2.2; BenchMARL pins torchrl<0.12)
test: lint test-core test-sanitize test-rllib test-clients

test-core: $(STAMP)
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

# the C core under AddressSanitizer + UBSan: a copy of the tree in build/sanitize is built with
# REX_SANITIZE=1 and runs the differential tests (C vs Python on every report, hostile input;
# the replay fast path vs the per-row code; the compiled decisions and bookkeeping vs their
# Python code)
test-sanitize: $(STAMP)
	$(MAKE) --no-print-directory sanitize PY=$(abspath $(PY))

SAN_DIR := build/sanitize
sanitize:  # no install step: for a Python that already has the dev extras and Cython
	rm -rf $(SAN_DIR) && mkdir -p $(SAN_DIR)
	cp -rp rex_env agents tests benchmarks setup.py pyproject.toml README.md $(SAN_DIR)/
	rm -f $(SAN_DIR)/rex_env/_core/*.so
	cd $(SAN_DIR) && REX_SANITIZE=1 $(PY) setup.py -q build_ext --inplace >build.log 2>&1
	ls $(SAN_DIR)/rex_env/_core/_cexchange*.so >/dev/null || (tail -20 $(SAN_DIR)/build.log; false)
	# the dev Hypothesis profile (env -u CI) keeps this near a minute; test-core runs the same
	# tests with the thorough CI profile, without sanitizers
	cd $(SAN_DIR) && env -u CI LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 REX_ENGINE=c \
		$(PY) -m pytest -q -p no:cacheprovider -p no:xdist tests/exchange/test_engines_differential.py \
		tests/test_replay_fast.py tests/agents/test_compiled_agents.py tests/envs/test_decoder_core.py \
		tests/sim/test_execute_plain.py tests/sim/test_trade_book.py \
		tests/sim/test_quote_sampler.py tests/sim/test_uniform_draw.py tests/envs/test_feasible_fast.py \
		tests/sim/test_wake_loop.py tests/agents/test_storage.py tests/envs/test_obs_fast.py tests/envs/test_actions_fast.py tests/exchange/test_memory.py \
		tests/agents/test_plant.py tests/sim/test_settle_fast.py

RLLIB_VENV ?= .venv-rllib
RLLIB_STAMP := $(RLLIB_VENV)/.installed

$(RLLIB_STAMP): pyproject.toml
	$(PYTHON) -m venv $(RLLIB_VENV)
	$(RLLIB_VENV)/bin/python -m pip install -q --upgrade pip
	$(RLLIB_VENV)/bin/python -m pip install -q torch==2.13.0
	$(RLLIB_VENV)/bin/python -m pip install -q -e ".[train,dev,rllib]"
	touch $(RLLIB_STAMP)

test-rllib: $(RLLIB_STAMP)
	$(RLLIB_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_rllib.py

# TorchRL, BenchMARL and Tianshou: .venv-<client> with torch 2.13.0 first, then ".[dev,<client>]"
# (pins in pyproject.toml). BenchMARL's venv runs the TorchRL tests again, with its TorchRL 0.11.
CLIENTS := torchrl benchmarl tianshou
CLIENT_STAMPS := $(foreach c,$(CLIENTS),.venv-$(c)/.installed)

$(CLIENT_STAMPS): .venv-%/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q torch==2.13.0
	.venv-$*/bin/python -m pip install -q -e ".[dev,$*]"
	touch $@

test-clients: $(addprefix test-,$(CLIENTS))

test-torchrl: .venv-torchrl/.installed
	.venv-torchrl/bin/python -m pytest -q -p no:cacheprovider tests/test_torchrl.py

test-benchmarl: .venv-benchmarl/.installed
	.venv-benchmarl/bin/python -m pytest -q -p no:cacheprovider tests/test_benchmarl.py \
		tests/test_torchrl.py

test-tianshou: .venv-tianshou/.installed
	.venv-tianshou/bin/python -m pytest -q -p no:cacheprovider tests/test_tianshou.py

lint: $(STAMP)
	$(VENV)/bin/ruff check rex_env agents tests benchmarks examples train.py evaluate.py
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/bench_exchange.py

clean:
	rm -rf $(VENV) $(RLLIB_VENV) $(foreach c,$(CLIENTS),.venv-$(c)) runs .pytest_cache .mypy_cache \
		.ruff_cache .hypothesis build rex_env/_core/*.so rex_env/_core/_cexchange.c
