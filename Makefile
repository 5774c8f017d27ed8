# The two commands: `make run` and `make test`. Everything else is configuration (README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-db bench lint migrate-check clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## make run: migrate the embedded SQLite database, load the demo organisation, serve on 127.0.0.1:5000
run: $(VENV)/.runtime
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) dsr demo
	$(FLASK) dsr serve --host $(HOST) --port $(PORT)

## make test: install what the tests need (Python packages, Debian's Chromium) and run them all
test: $(VENV)/.dev
	scripts/ensure-chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

## make test-db: the database tests only, against DSR_TEST_DATABASE_URL (used by .ci/run)
test-db: $(VENV)/.dev
	$(PY) -m pytest -m "not browser" -q

## make bench: every benchmark, results in bench/results/latest.md and the README (about 45 minutes)
bench: $(VENV)/.dev
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null; } || { echo "install wrk (apt-get install wrk)"; exit 1; }
	$(PY) bench/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .ruff_cache
