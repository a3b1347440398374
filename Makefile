# Two commands for a fresh machine: `make test` and `make up` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
# Debian packages the tests need: vagrant (`vagrant validate`), the Docker engine, for the
# Mesos/Marathon stand-in's tests a static busybox (their app image) and ZooKeeper, and
# Chromium (headless: the lab tests load the Mesos and Marathon pages in a real browser), and
# nftables (the functional tests check each node's rendered firewall with `nft --check`).
TEST_PACKAGES := vagrant docker.io busybox-static zookeeperd file chromium nftables

.PHONY: test lint unit functional integration standin notejam deps system-deps up down lab-test clean

# A skipped test fails here: everything it needs is installed above, so a skip is a defect.
# Then the lab: `make up` brings it up (or re-converges it) and tests/lab checks it for real.
test: deps system-deps lint
	$(VENV)/bin/python lab/lab.py docker
	PLATFORM_NO_SKIP=1 $(VENV)/bin/pytest tests/unit tests/functional tests/integration tests/standin tests/notejam
	$(MAKE) up
	PLATFORM_NO_SKIP=1 $(VENV)/bin/pytest tests/lab

unit functional integration standin notejam: deps
	$(VENV)/bin/pytest tests/$@

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

deps: $(INSTALLED)

$(INSTALLED): pyproject.toml requirements/salt.txt requirements/master.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet '.[test]'
	touch $@

system-deps:
	@missing=$$(for package in $(TEST_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The offline lab: ten systemd containers, salt-master on the host, then salt-run cluster.up.
up: deps
	. ./activate && $(VENV)/bin/python lab/lab.py up

# Only the tests against the running lab (real nodes, real services); `make up` first.
lab-test: deps
	. ./activate && $(VENV)/bin/pytest tests/lab

# Everything the lab made goes; `make down KEEP_IMAGES=1` keeps the node images (a faster next `make up`).
down: deps
	. ./activate && $(VENV)/bin/python lab/lab.py down $(if $(KEEP_IMAGES),--keep-images)

clean:
	rm -rf $(VENV) .salt .pytest_cache .ruff_cache
