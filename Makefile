# Two commands a newcomer needs: `make run` and `make test`. Both create the virtual
# environment on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch is installed on its own first. Without a GPU we ask for the CPU build explicitly so
# that resolving the other dependencies never pulls several GB of CUDA libraries.
TORCH_VERSION ?= 2.13.0
# Optional extra index for the torch wheel (e.g. a CPU-only index on machines whose default
# index serves CUDA builds). Empty: the normal pip configuration decides.
TORCH_INDEX_URL ?=
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo 1)
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: run test lint format clean help browser-for-ci postgres-for-ci

help:
	@echo "make run    - install (first time) and start the app on http://$(HOST):$(PORT)"
	@echo "make test   - install with test extras and run the whole test suite"
	@echo "make lint   - ruff check"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.torch: | $(PY)
ifeq ($(HAS_GPU),1)
	$(PIP) install "torch>=2.4,<3"
else
	$(PIP) install "torch==$(TORCH_VERSION)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
endif
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[test]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/tutor serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test browser-for-ci postgres-for-ci
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -ra --durations=30

# CI machines start bare: give the browser tests Debian's Chromium there (needs root). Elsewhere
# the browser tests run when a Chromium is installed and are skipped, with a reason, when not.
browser-for-ci:
ifeq ($(CI),true)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "no Chromium could be installed: the browser tests will be skipped"; }
endif

# Every database test also runs on PostgreSQL (tests/postgres_server.py starts a throwaway server
# from the machine's PostgreSQL programs). A bare CI machine gets Debian's package; elsewhere a
# missing server fails the run with the reason (TUTOR_TEST_POSTGRES=skip reports them skipped).
postgres-for-ci:
ifeq ($(CI),true)
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
	  echo "PostgreSQL could not be installed: the database tests will fail on PostgreSQL with the reason"; }
endif

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
