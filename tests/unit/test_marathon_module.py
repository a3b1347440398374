"""The runners' Marathon client with a master down: it is passed over fast, and not asked again."""

from __future__ import annotations

import importlib.util

import pytest
import requests
import salt.modules.slsutil
import topology

from .conftest import REPO

_SPEC = importlib.util.spec_from_file_location("platform_marathon", REPO / "_modules" / "marathon.py")
marathon = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(marathon)


class Reply:
    status_code, content = 200, b'{"leader": "mm2.localdomain:8080"}'

    def json(self):
        return {"leader": "mm2.localdomain:8080"}


@pytest.fixture
def configure_loader_modules(repo_pillar, topology_funcs):
    pillar = {**repo_pillar, "marathon": {"http_password": "secret"}}
    return {
        marathon: {"__pillar__": pillar, "__salt__": topology_funcs, "__context__": {}},
        topology: {"__pillar__": pillar, "__salt__": topology_funcs},
        salt.modules.slsutil: {},
    }


@pytest.fixture
def calls(monkeypatch, repo_pillar):
    """Every URL the module connects to, with mm1 down (no connection within the connect timeout)."""
    made: list[tuple[str, object]] = []

    def fake_request(method, url, timeout, **kwargs):
        made.append((url, timeout))
        if url.startswith(f"http://{repo_pillar['platform']['nodes']['mm1']['ip']}:"):
            raise requests.ConnectTimeout("mm1 is down")
        return Reply()

    monkeypatch.setattr(marathon.requests, "request", fake_request)
    return made


def test_a_master_that_takes_no_connection_is_passed_over_after_the_connect_timeout_and_then_skipped(calls):
    assert marathon.request("GET", "/v2/leader")[0] == 200
    assert [url.split(":")[1] for url, _ in calls] == ["//192.168.33.11", "//192.168.33.12"]
    assert all(timeout == (marathon.CONNECT_TIMEOUT, marathon.TIMEOUT) for _, timeout in calls)
    assert marathon.CONNECT_TIMEOUT <= 2
    calls.clear()
    for _ in range(3):  # the deploy's next calls go straight to the one that answered
        marathon.request("GET", "/v2/leader")
    assert [url.split(":")[1] for url, _ in calls] == ["//192.168.33.12"] * 3
