"""The runners' Marathon client with a master down: passed over fast, and not asked again, in this run or the next."""

from __future__ import annotations

import importlib.util

import endpoints
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
def master_cache(tmp_path):
    return {"cachedir": str(tmp_path), "cache": "localfs"}


@pytest.fixture
def configure_loader_modules(repo_pillar, topology_funcs, master_cache):
    pillar = {**repo_pillar, "marathon": {"http_password": "secret"}}
    funcs = {**topology_funcs, "endpoints.in_answer_order": endpoints.in_answer_order,
             "endpoints.answered": endpoints.answered}  # fmt: skip
    return {
        marathon: {"__pillar__": pillar, "__salt__": funcs, "__context__": {}},
        topology: {"__pillar__": pillar, "__salt__": funcs},
        endpoints: {"__opts__": master_cache, "__context__": {}},
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


def test_the_next_run_starts_from_the_node_that_answered_in_the_last_one(calls, master_cache):
    marathon.request("GET", "/v2/leader")
    endpoints.__context__.clear()  # a new salt-run: a new loader, the master's cache kept
    calls.clear()
    marathon.request("GET", "/v2/leader")
    assert [url.split(":")[1] for url, _ in calls] == ["//192.168.33.12"]
