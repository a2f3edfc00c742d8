# One entry point for every task. Targets create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20


.PHONY: screenshots browser help venv test check checkov lint typecheck demo validate bench bench-goals synth deploy clean

help:
	@echo "make demo      run a whole incident on the embedded AWS emulator"
	@echo "make test      install what is needed and run every test"
	@echo "make check     ruff, mypy, checkov on a fresh synth, and the tests"
	@echo "make validate  validate runbooks/ (schema and message-quality lint)"
	@echo "make bench     run the benchmarks in bench/ and print their numbers"
	@echo "make bench-goals  run the scale, first-notice and storm benches and check their goals"
	@echo "make synth     synthesize the CDK app (validates runbooks, runs cdk-nag) into cdk.out/"
	@echo "make deploy    deploy with the pinned CDK CLI (needs AWS credentials)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cli,local,dev,infra]'
	@touch $(STAMP)

venv: $(STAMP)

test: $(STAMP) browser node_modules/.installed
	$(BIN)/python -m pytest -q

# The browser tests need Debian's chromium (installed here where it is missing) and playwright-core
# from npm (node_modules/.installed, below), which drives it and downloads no browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser test (Debian package)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# checkov has its own virtualenv: its pins conflict with the CDK's. tests/infra/test_checkov.py runs it
# over the test session's synthesized templates; under `make check` a missing checkov is a failure.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed:
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov>=3.3.30,<3.4'
	@touch $@

checkov: $(CHECKOV_VENV)/.installed

check: export CLARION_REQUIRE_CHECKOV := 1
check: lint typecheck checkov test

demo: $(STAMP)
	$(BIN)/clarion demo

validate: $(STAMP)
	$(BIN)/clarion runbooks validate runbooks

bench: $(STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/status_page.py
	$(BIN)/python bench/first_notice.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/page_update.py
	$(BIN)/python bench/alarm_storm.py
	$(BIN)/python bench/page_reach.py

# The goals of the deployed page path, the first notice and alarm storms, checked (exit 1 if one fails).
bench-goals: $(STAMP)
	$(BIN)/python bench/goals.py

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(STAMP) node_modules/.installed
	npx cdk synth --quiet

deploy: $(STAMP) node_modules/.installed
	npx cdk deploy --all

# The README's screenshots of the desk and the approval page, taken by the browser test.
screenshots: $(STAMP) browser node_modules/.installed
	CLARION_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/e2e/test_desk_browser.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache cdk.out
