# Data Generator: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AZURITE := node_modules/.installed

.DEFAULT_GOAL := build
.PHONY: build lint black test demo bench clean azcopy_output

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Azurite, the Azure Blob Storage emulator the tests run against (pinned in package.json).
$(AZURITE): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

# Style, types and the architecture (the import contracts in pyproject.toml).
lint: $(STAMP)
	$(PY) -m flake8 .
	$(PY) -m black --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

black: $(STAMP)
	$(PY) -m black .

test: $(STAMP) $(AZURITE)
	$(PY) -m pytest

build: lint test

demo: $(STAMP)
	$(PY) generate.py providers
	$(PY) generate.py document -p org -q 1000 --seed 7 --format jsonl
	$(PY) generate.py document -p starfleet_account -q 10 --seed 7
	$(PY) generate.py journey -p job_lifecycle -q 10 --seed 7
	$(PY) generate.py verify output/documents
	$(PY) generate.py verify output/journeys
	$(PY) generate.py publish output/documents --to sqlite:///output/demo.db
	$(PY) generate.py replay output/journeys --to sqlite:///output/staging.db --speed max
	$(PY) generate.py load workloads/usage.yaml --to sqlite:///output/usage.db --reset --speed max

bench: $(STAMP)
	$(PY) bench/run.py

# Upload ./output to BLOB_CONTAINER_URL with BLOB_SAS_TOKEN: azcopy when installed,
# otherwise our own publisher (azure-storage-blob). It says which it used.
azcopy_output: $(STAMP)
	scripts/azcopy_output.sh

# Everything generated under output/ (runs, scenarios, reports, databases, checkpoints,
# leftovers of killed runs), the virtualenv and Azurite; output/.gitkeep stays.
clean:
	rm -rf $(VENV) node_modules
	find output -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
