# Two commands for a fresh machine: `make test` and `make up` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
# System tools the tests need: vagrant for `vagrant validate`.
SYSTEM_TOOLS := vagrant

.PHONY: test lint unit functional integration deps system-deps up down clean

test: deps system-deps lint
	$(VENV)/bin/pytest tests/unit tests/functional tests/integration

unit functional integration: deps
	$(VENV)/bin/pytest tests/$@

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

deps: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet '.[test]'
	touch $@

system-deps:
	@missing=$$(for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || echo $$tool; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

up:
	@echo "make up: the offline lab (ten local nodes) is not built yet: see issue #3." >&2
	@echo "Against Vagrant VMs or real hosts, follow README 'Running it on VMs or real hosts'." >&2
	@exit 1

clean:
	rm -rf $(VENV) .salt .pytest_cache .ruff_cache
