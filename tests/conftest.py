"""Shared fixtures: the repository's own pillar, loaded as the master would see it."""

from __future__ import annotations

import copy
import logging
import os
import pathlib

import pytest
import yaml

# Salt's daemons log from their shutdown handlers after pytest closed its capture streams;
# without this each such line prints a "--- Logging error ---" traceback.
logging.raiseExceptions = False

REPO = pathlib.Path(__file__).resolve().parent.parent
PILLAR_FILES = ("platform.sls", "components.sls", "app.sls", "secrets.sls")


# What a production site's own pillar (.salt/pillar/site.sls) must add: its vendor repository.
PRODUCTION_SITE_PILLAR = """
mesos:
  repo: deb [signed-by=/etc/apt/keyrings/mesos.gpg] https://mesos.example.org/debian bookworm main
  repo_key_url: https://mesos.example.org/debian/key.gpg
"""


def load_repo_pillar() -> dict:
    """The files of pillar/top.sls merged (all plain YAML), without a site pillar."""
    pillar: dict = {}
    for name in PILLAR_FILES:
        pillar.update(yaml.safe_load((REPO / "pillar" / name).read_text()))
    return pillar


def with_site(pillar: dict, site_pillar: str) -> dict:
    """The pillar with a site pillar merged over it, one level deep (as Salt's recursive merge here)."""
    for key, value in (yaml.safe_load(site_pillar) or {}).items():
        pillar[key] = {**pillar.get(key, {}), **value} if isinstance(value, dict) else value
    return pillar


@pytest.fixture
def repo_pillar() -> dict:
    """What a production master sees (repository pillar and a site's), a fresh copy free to mutate."""
    return with_site(copy.deepcopy(load_repo_pillar()), PRODUCTION_SITE_PILLAR)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """
    Under `make test` (PLATFORM_NO_SKIP=1) a skip is a failure: it installs every prerequisite.
    The one exception is ../shared/reference, which lives beside the project, not in it.
    """
    outcome = yield
    report = outcome.get_result()
    allowed = item.get_closest_marker("shared_reference") is not None
    if os.environ.get("PLATFORM_NO_SKIP") and report.skipped and not allowed and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under `make test`, where nothing may be skipped: {report.longrepr}"
