# Two commands do all the set-up on a fresh machine:
#   make run    creates .venv-run, installs only the app and starts it
#   make test   installs the system packages, starts a Docker Engine if none answers,
#               makes the offline base image, creates .venv and runs every test tier
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# A test that needs the engine fails (not skips) when none answers; `make test REQUIRE_ENGINE=0` skips them.
REQUIRE_ENGINE ?= 1

.PHONY: run test system lint bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,package]'
	rm -f $(VENV)/.installed-* && touch $@

# `make run` has an environment of its own with only what the app needs (no pytest, ruff,
# scikit-learn or PyInstaller: those made it 652 MB).
RUN_VENV ?= .venv-run
RUN_PY := $(RUN_VENV)/bin/python
RUN_STAMP := $(RUN_VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

$(RUN_STAMP): pyproject.toml
	test -x $(RUN_PY) || python3 -m venv $(RUN_VENV)
	$(RUN_PY) -m pip install -q --upgrade pip
	$(RUN_PY) -m pip install -q -e .
	rm -f $(RUN_VENV)/.installed-* && touch $@

run: $(RUN_STAMP)
	$(RUN_PY) -m gui $(ARGS)

system:
	bash .ci/setup-system

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

test: system $(STAMP) lint
	REQUIRE_ENGINE=$(REQUIRE_ENGINE) QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -ra --durations=25 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) tests/perf/bench_cold_start.py
