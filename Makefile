# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run demo test test-deps bench bench-extract bench-casualty lint clean help

help:
	@echo "make run    install, then run wirewatch on embedded defaults (broker + SQLite)"
	@echo "make demo   install, then run the whole pipeline offline against the sample news site"
	@echo "make test   install (Python packages, PostgreSQL, Kafka jars), then run every test"
	@echo "make bench  install, then run the benchmarks"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wirewatch needs Python 3.11+")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing wirewatch and its dependencies into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(VENV)/bin/wirewatch run

demo: install
	$(VENV)/bin/wirewatch demo

test-deps:
	@bash deploy/scripts/install-test-deps.sh

test: install test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m benchmarks $(BENCH_ARGS)

# CORPUS: a directory laid out like shared/data/extraction-scrapinghub-dev (html/ + ground-truth.json)
bench-extract: install
	$(PY) -m benchmarks extract --corpus $(CORPUS)

# FILE: JSONL of {"text", "gold_killed", "gold_injured"} per line; empty scores the project's corpus.
bench-casualty: install
	$(PY) -m benchmarks.bench_casualty $(if $(FILE),--file $(FILE)) $(if $(SPEED_DOCS),--speed-docs $(SPEED_DOCS))

clean:
	rm -rf $(VENV) .cache var .pytest_cache
