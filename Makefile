# Two commands matter: `make demo` (try it) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app saas:create_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install demo serve test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(FLASK) tenants migrate
	$(FLASK) demo seed --base-url http://$(HOST):$(PORT)
	$(PY) wsgi.py --host $(HOST) --port $(PORT)

serve: install
	$(PY) wsgi.py --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks write bench/results/*.json and *.md; the semantic extra is installed for them.
# load.py needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379, database 7) for its pg targets.
bench: install
	$(PY) -m pip install --quiet -e '.[semantic]'
	$(PY) bench/bot_quality.py
	$(PY) bench/statements.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) instance .pytest_cache
