"""The consul_keyring state against an in-memory keyring API: install, use, remove, in that order."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import REPO

_SPEC = importlib.util.spec_from_file_location("consul_keyring", REPO / "_states" / "consul_keyring.py")
consul_keyring = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(consul_keyring)

OLD, NEW = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleQ==", "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleQ=="


class Answer:
    def __init__(self, status_code: int, body=None):
        self.status_code, self.body, self.text = status_code, body, str(body)

    def json(self):
        return self.body


class FakeKeyring:
    """Consul 1.8's /v1/operator/keyring for a LAN pool of 10 members and a WAN pool of 3."""

    def __init__(self, down: int = 0):
        self.pools = {"LAN": {"members": 10, "keys": {OLD: 10}}, "WAN": {"members": 3, "keys": {OLD: 3}}}
        self.primary, self.down, self.sent = OLD, down, []

    def get(self, url, headers, timeout):
        return Answer(200, [{"WAN": name == "WAN", "NumNodes": p["members"], "Keys": dict(p["keys"])}
                            for name, p in self.pools.items()])  # fmt: skip

    def request(self, method, url, json, headers, timeout):
        key = json["Key"]
        self.sent.append(method)
        if method == "POST":
            for pool in self.pools.values():
                pool["keys"][key] = pool["members"] - self.down
            if self.down:
                return Answer(500, f"{self.down}/10 nodes reported failure")
        elif method == "PUT":
            self.primary = key
        elif method == "DELETE":
            if key == self.primary:
                return Answer(500, "Removing the primary key is not allowed")
            for pool in self.pools.values():
                pool["keys"].pop(key, None)
        return Answer(200)


@pytest.fixture
def keyring(monkeypatch):
    def make(down: int = 0, test: bool = False) -> FakeKeyring:
        fake = FakeKeyring(down)
        monkeypatch.setattr(consul_keyring.requests, "get", fake.get)
        monkeypatch.setattr(consul_keyring.requests, "request", fake.request)
        monkeypatch.setattr(consul_keyring, "__opts__", {"test": test}, raising=False)
        return fake

    return make


def test_a_rotated_key_is_installed_then_used_then_the_old_one_removed_and_the_next_run_is_clean(keyring):
    fake = keyring()
    result = consul_keyring.single_key("gossip", NEW, "master")
    assert result["result"] is True and fake.sent == ["POST", "PUT", "DELETE"]
    assert fake.primary == NEW and all(pool["keys"] == {NEW: pool["members"]} for pool in fake.pools.values())
    assert NEW not in str(result) and OLD not in str(result)  # no key in the output
    again = consul_keyring.single_key("gossip", NEW, "master")
    assert (again["result"], again["changes"]) == (True, {})


def test_test_mode_names_the_change_and_makes_none(keyring):
    fake = keyring(test=True)
    result = consul_keyring.single_key("gossip", NEW, "master")
    assert result["result"] is None and fake.sent == []
    assert result["changes"] == {"gossip key": {"members without it": 13, "other keys removed": 1}}


def test_a_member_that_is_down_stops_the_rotation_before_the_old_key_goes(keyring):
    fake = keyring(down=1)
    result = consul_keyring.single_key("gossip", NEW, "master")
    assert result["result"] is False and "1/10 nodes reported failure" in result["comment"]
    assert fake.sent == ["POST"] and fake.primary == OLD
    assert all(OLD in pool["keys"] for pool in fake.pools.values())
