PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
# the environment `make test-min` builds with the lowest versions pyproject.toml allows
MIN_VENV := .venv-min
PYTEST_JOBS ?= 2
UV_VERSION := 0.9.5

.PHONY: demo test test-min lint system-packages lock bench clean fuzz

# The project and its tools at the versions the tests passed with (requirements.lock).
# uv installs them (about 10 s, where pip took about a minute); uv itself is pinned here.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -c $(LOCK) -e '.[dev,dask,ray]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/adplan demo

# Chromium and PostgreSQL's server from Debian's packages when they are missing (.ci/system-packages).
system-packages:
	@bash .ci/system-packages

lint: $(STAMP)
	$(BIN)/ruff format --check cli optimizer forecasting scenarios service tests benchmarks
	$(BIN)/ruff check cli optimizer forecasting scenarios service tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Lint, types, layers, then the suite with branch coverage (floor in pyproject.toml).
test: lint system-packages
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) --cov --cov-report=term tests

# The suite against the lowest versions pyproject.toml allows (on demand, not in CI).
test-min: system-packages
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install -q uv==$(UV_VERSION)
	$(MIN_VENV)/bin/uv pip install -q --python $(MIN_VENV)/bin/python --resolution lowest-direct -e '.[dev,dask,ray]'
	$(MIN_VENV)/bin/uv pip list --python $(MIN_VENV)/bin/python
	$(MIN_VENV)/bin/python -m pytest -n $(PYTEST_JOBS) -p no:cacheprovider tests

# Re-pin requirements.lock to the newest versions pyproject.toml allows (then run make test).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra dask --extra ray --python-version 3.11 --universal -q -o $(LOCK)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Schemathesis at length against a real server on 127.0.0.1: every check, the coverage phase,
# 300 examples per operation and 100 stateful scenarios (set ADPLAN_ST_EXAMPLES and
# ADPLAN_ST_STATEFUL to change them); prints the requests per operation and status. On demand.
fuzz: $(STAMP)
	ADPLAN_ST_EXAMPLES=$${ADPLAN_ST_EXAMPLES:-300} ADPLAN_ST_STATEFUL=$${ADPLAN_ST_STATEFUL:-100} \
	ADPLAN_ST_COVERAGE=1 $(BIN)/python -m pytest -p no:cacheprovider -s -q \
		tests/service/test_service_schemathesis.py

clean:
	rm -rf $(VENV) $(MIN_VENV) adplan-demo .pytest_cache .coverage .coverage.*
