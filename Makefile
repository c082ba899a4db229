# Two commands matter: `make demo` (try it) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app saas:create_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install demo serve test bench clean translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# axe-core for the accessibility tests (tests/accessibility.py); without npm those tests skip.
tests/node_modules/.installed: tests/package.json tests/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests --silent && touch $@; \
	else echo "npm not found: the accessibility tests will skip (fail in CI)"; fi

install: $(VENV)/.installed tests/node_modules/.installed

demo: install
	$(FLASK) tenants migrate
	$(FLASK) demo seed --base-url http://$(HOST):$(PORT)
	$(PY) wsgi.py --host $(HOST) --port $(PORT)

serve: install
	$(PY) wsgi.py --host $(HOST) --port $(PORT)

# Test files are spread over TEST_WORKERS processes (most of a test's time is spent waiting on servers,
# browsers and databases, so more workers than cores pays off); TEST_WORKERS=0 runs them in this one.
TEST_WORKERS ?= 3
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Languages (README "Languages"): extract every msgid (Python, Jinja, the JS modules' t('…')) into
# saas/translations/messages.pot, merge it into each language's messages.po and compile the .mo files
# the app reads. Translate the new, empty msgstrs in the .po files, then run it again. All are committed.
# A service refusal's message (the second argument of ServiceError and its subclasses) is a msgid too.
ERROR_KEYWORDS := $(foreach error,ServiceError Invalid NotFound Forbidden Conflict RateLimited ReportError \
	TooLarge BadToken Unauthenticated,-k $(error):2)
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 -k t -k N_ -k NP_:1c,2 $(ERROR_KEYWORDS) \
		--no-wrap --sort-by-file --project Switchboard -o saas/translations/messages.pot .
	$(VENV)/bin/pybabel update -i saas/translations/messages.pot -d saas/translations --no-wrap --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d saas/translations --statistics

# Benchmarks write bench/results/*.json and *.md; the semantic extra is installed for them.
# load.py needs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379, database 7) for its pg targets.
bench: install
	$(PY) -m pip install --quiet -e '.[semantic,bench]'
	$(PY) bench/bot_quality.py
	$(PY) bench/statements.py
	$(PY) bench/load.py
	$(PY) bench/reports.py

clean:
	rm -rf $(VENV) instance .pytest_cache
