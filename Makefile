# Two commands: `make run` serves the platform on http://127.0.0.1:5000, `make test` runs the whole suite.
# Each creates .venv and installs what it needs on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?= -n auto

.PHONY: run test lint format system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/flask --app wsgi lms bootstrap
# `flask run` listens where FLASK_RUN_HOST and FLASK_RUN_PORT say, and certificate links follow them (lms/config.py).
	FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT) $(BIN)/flask --app wsgi run

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory check-content-strict
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The shipped courses/ and quizzes/: `check-content` fails on problems and prints item-writing warnings (cues, small
# blueprint pools); `check-content-strict` fails on those warnings too, and is what `make test` (so CI) runs.
.PHONY: check-content check-content-strict

check-content: $(STAMP)
	$(BIN)/flask --app wsgi lms check-content

check-content-strict: $(STAMP)
	$(BIN)/flask --app wsgi lms check-content --strict

# The suite again on the LOWEST versions pyproject.toml allows (uv's lowest-direct resolution: every direct
# dependency at its floor), so code that outgrew a floor fails here rather than on an install that honours it.
# Built afresh in .venv-lowest whenever pyproject.toml changes. The browser tests (marker `browser`) are left out
# to keep CI fast: they try our JavaScript in Debian's Chromium, which no Python floor changes, and `make test`
# runs them. SQLite and, when LMS_TEST_DATABASE_URL names it, PostgreSQL, as in `make test`.
LOWEST       := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: test-lowest

$(LOWEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet $(LOWEST) --python $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(LOWEST) --resolution lowest-direct -e '.[dev]'
	touch $@

test-lowest: $(LOWEST_STAMP) system-deps
	$(LOWEST)/bin/python -m pytest $(PYTEST_ARGS) -q -m "not browser"

# Mutation testing of the rule modules, run by hand (never in CI): mutmut changes them one small edit at a time
# in mutants/ and runs the tests that reach each change, on SQLite; a change no test notices "survives". The modules
# and tests are in [tool.mutmut] in pyproject.toml. Every run starts afresh (mutmut does not refresh the copies of
# unmutated files), then prints each module's score. The survivors: `$(BIN)/mutmut results`, one of them:
# `$(BIN)/mutmut show NAME`.
MUTATION_JOBS ?= 2

.PHONY: mutation

mutation: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,mutation]'
	rm -rf mutants
	@start=$$(date +%s); \
	  LMS_TEST_DATABASE_URL= $(BIN)/mutmut run --max-children $(MUTATION_JOBS) && \
	  echo "mutmut run took $$(( $$(date +%s) - start )) s"
	@echo "Mutants killed, per module:"
	@$(BIN)/mutmut results --all true | awk -F': ' ' \
	  { module = $$1; sub(/^ +/, "", module); sub(/\.x(_|ǁ).*$$/, "", module); total[module]++ } \
	  $$2 == "killed" || $$2 == "timeout" { killed[module]++ } \
	  END { for (m in total) printf "  %-32s %4d of %4d  %5.1f %%\n", m, killed[m], total[m], 100 * killed[m] / total[m] }' \
	  | sort

# The installed dependencies against known vulnerabilities (pip-audit, online: PyPI's vulnerability data). Not in
# `make test` (whose tools load nothing from the network); CI runs it after the tests. See tools/audit for what
# its exit status says, and the loud "NOT RUN" when the data cannot be reached: a skipped check is never a pass.
.PHONY: audit

audit: $(STAMP)
	@BIN=$(BIN) tools/audit

system-deps:
	@tools/install-system-deps

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
