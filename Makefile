# GiantStep: `make run` sets up and serves the web app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install model run demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The shipped readiness model is used when it loads with the installed libraries; otherwise train one
# (about a minute) into models/.
model: install
	@$(BIN)/python -c "from webapp.engine.readiness.store import load_model; print(load_model().describe())" \
		|| $(BIN)/giantstep train

run: model
	$(BIN)/giantstep serve --host 127.0.0.1 --port 5000

demo: install
	$(BIN)/giantstep assess data/examples/srdi_machinery.json --format text

test: install
	$(BIN)/ruff check webapp tests benchmarks
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.engine --rows 1000000
	$(BIN)/python -m benchmarks.batch --rows 200000
	$(BIN)/python -m benchmarks.cohorts --rows 1000000
	$(BIN)/python -m benchmarks.readiness --rows 1000000
	$(BIN)/python -m benchmarks.reports
	$(BIN)/python -m benchmarks.web
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.api
	$(BIN)/python -m benchmarks.request

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
