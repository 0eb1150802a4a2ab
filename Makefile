# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run demo test test-deps bench bench-e2e bench-extract fit-page-kind bench-casualty bench-stories bench-api bench-faults lock lock-upgrade lint clean help

help:
	@echo "make run    install, then run wirewatch on embedded defaults (broker + SQLite)"
	@echo "make demo   install, then run the whole pipeline offline against the sample news site"
	@echo "make test   install (Python packages, PostgreSQL, Kafka jars), then run every test"
	@echo "make bench  install, then run the benchmarks"
	@echo "make lint   install, then check formatting, lint and types (what CI runs first)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wirewatch needs Python 3.11+")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing wirewatch and its dependencies into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[embedded,demo,test]'
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

# Real Kafka, a loopback site on 600 hosts, default politeness: throughput, latency, memory.
# CORPUS: as for bench-extract (default ../shared/data/extraction-scrapinghub-dev); WORKERS: 1 or 2;
# STORAGE: sqlite (default) or postgres; BROKER: kafka (default) or embedded (`make run`'s tansu,
# one worker); HOSTS: loopback hosts (127.0.x.y), which set the politeness ceiling (HOSTS / 3 links/s).
bench-e2e: install
	$(PY) -m benchmarks e2e $(if $(CORPUS),--e2e-corpus $(CORPUS)) $(if $(WORKERS),--e2e-workers $(WORKERS)) $(if $(STORAGE),--e2e-storage $(STORAGE)) $(if $(BROKER),--e2e-broker $(BROKER)) $(if $(HOSTS),--e2e-hosts $(HOSTS))

# CORPUS: a directory laid out like shared/data/extraction-scrapinghub-dev (html/ + ground-truth.json),
# or like extraction-wcxb-dev (the same plus page_type, title, author, published: adds word F1,
# acceptance of articles, refusal of other pages and metadata accuracy).
# EXTRACT_ARGS: e.g. "--extract-rounds 1 --extract-no-pool" for a quicker run.
bench-extract: install
	$(PY) -m benchmarks extract --corpus $(CORPUS) $(EXTRACT_ARGS)

# Refit the page-kind check's weights (stages/extract_kind.py) on a WCXB-layout CORPUS (default
# ../shared/data/extraction-wcxb-dev, skipped where absent): prints the weight table, in-sample and
# held-out figures. FIT_ARGS: e.g. "--articles ../shared/data/extraction-scrapinghub-dev --shapes /tmp/shapes.json".
fit-page-kind: install
	$(PY) -m benchmarks.fit_page_kind $(if $(CORPUS),--corpus $(CORPUS)) $(FIT_ARGS)

# FILE: JSONL of {"text", "gold_killed", "gold_injured"} per line; empty scores the project's corpus.
bench-casualty: install
	$(PY) -m benchmarks.bench_casualty $(if $(FILE),--file $(FILE)) $(if $(SPEED_DOCS),--speed-docs $(SPEED_DOCS))

# FILE: JSONL(.gz) of articles with incident_id (e.g. ../shared/data/casualty-gva-dev/articles.jsonl.gz):
# story grouping scored against the real events, then the synthetic speed check. ARGS: more options.
bench-stories: install
	$(PY) -m benchmarks.bench_stories $(if $(FILE),--stories-file $(FILE)) $(ARGS)

# Read API p99 with 100,000 articles and 10,000 stories on SQLite and PostgreSQL (goal: < 50 ms).
bench-api: install
	$(PY) -m benchmarks api $(ARGS)

# Issue 11's fault scenarios at full length on real Kafka and PostgreSQL (about 10 minutes): per
# scenario links in, outcomes, stored/filtered/dead-lettered, reprocessed, articles, alerts, drain
# and recovery times; a restart with and without static group membership. ARGS: e.g.
# "--faults-scenarios kill_twice,restart_static --faults-outage 10".
bench-faults: install
	$(PY) -m benchmarks faults $(ARGS)

# deploy/requirements.lock: every runtime dependency pinned with its hashes, what the Docker image
# installs (uv resolves it; tests/deploy/test_wheel.py installs it outside the tree and runs wirewatch).
# `make lock` follows a change to pyproject.toml and moves nothing else: uv keeps each pin of the old
# lock that still fits, so a new dependency does not drag every other package to its latest release.
# `make lock-upgrade` moves every pin to the newest release that fits: a deliberate step of its own.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	-o deploy/requirements.lock
lock: install
	$(LOCK)

lock-upgrade: install
	$(LOCK) --upgrade

# Formatting (ruff format --check), lint (ruff check) and types (mypy: strict on stages/ and sinks/,
# settings in pyproject.toml); zero findings, checked by .ci/run before the tests.
# LINT_PATHS: what ruff checks (`make lint LINT_PATHS=path/you/changed.py` for a quick look).
LINT_PATHS ?= services tests benchmarks

lint: install
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .cache var .pytest_cache
