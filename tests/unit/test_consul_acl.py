"""The consul_acl state against an in-memory Consul ACL API: what it creates, fixes and deletes."""

from __future__ import annotations

import importlib.util
import pathlib
import uuid

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "consul_acl", pathlib.Path(__file__).resolve().parents[2] / "salt" / "_states" / "consul_acl.py"
)
consul_acl = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(consul_acl)

MASTER = str(uuid.uuid4())
AGENT_MS1, AGENT_MS2, SHARED = (str(uuid.uuid4()) for _ in range(3))


class Answer:
    def __init__(self, status_code: int, body=None):
        self.status_code, self.body, self.text = status_code, body, str(body)

    def json(self):
        return self.body


class FakeConsul:
    """Tokens by SecretID and policies by name, as Consul 1.8's /v1/acl endpoints show them."""

    def __init__(self):
        self.policies: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {
            consul_acl.ANONYMOUS: {"AccessorID": consul_acl.ANONYMOUS, "SecretID": "anonymous", "Policies": []}
        }
        self.sent: list[tuple[str, str]] = []

    def add_token(self, secret: str, description: str, **fields) -> None:
        self.tokens[secret] = {"AccessorID": f"acc-{secret}", "SecretID": secret, "Description": description, **fields}

    # The state's _Api, bound to this fake.
    def api(self, url: str, token: str):
        fake = self

        class Api:
            def get(self, path: str, token: str | None = None) -> Answer:
                if path == "/v1/acl/policies":
                    return Answer(200, list(fake.policies.values()))
                if path.startswith("/v1/acl/policy/name/"):
                    policy = fake.policies.get(path.rsplit("/", 1)[1])
                    return Answer(200, policy) if policy else Answer(404, "not found")
                if path == "/v1/acl/token/self":
                    found = fake.tokens.get(token)
                    return Answer(200, found) if found else Answer(403, "ACL not found")
                if path == "/v1/acl/tokens":
                    return Answer(200, [{k: v for k, v in t.items() if k != "SecretID"} for t in fake.tokens.values()])
                if path.startswith("/v1/acl/token/"):
                    accessor = path.rsplit("/", 1)[1]
                    found = [t for t in fake.tokens.values() if t["AccessorID"] == accessor]
                    return Answer(200, found[0]) if found else Answer(404, "not found")
                raise AssertionError(path)

            def send(self, method: str, path: str, body: dict) -> None:
                fake.sent.append((method, path))
                if path.startswith("/v1/acl/policy"):
                    fake.policies[body["Name"]] = {"ID": body["Name"], **body}
                elif method == "DELETE":
                    fake.tokens = {s: t for s, t in fake.tokens.items() if t["AccessorID"] != path.rsplit("/", 1)[1]}
                elif path == f"/v1/acl/token/{consul_acl.ANONYMOUS}":
                    fake.tokens[consul_acl.ANONYMOUS]["Policies"] = body["Policies"]
                else:
                    fake.add_token(body["SecretID"], body["Description"], **body)

        return Api()


@pytest.fixture
def consul(monkeypatch):
    fake = FakeConsul()
    monkeypatch.setattr(consul_acl, "_Api", fake.api)
    monkeypatch.setattr(consul_acl, "__opts__", {"test": False}, raising=False)
    return fake


def bootstrap(**overrides):
    arguments = {
        "name": "consul-acl",
        "master_token": MASTER,
        "policies": {"platform-template": 'service_prefix "" { policy = "read" }'},
        "tokens": {
            "template_token": {"secret": str(uuid.UUID(int=7)), "policies": ["platform-template"]},
            "agent token of ms1": {"secret": AGENT_MS1, "node": "ms1", "policies": []},
            "agent token of ms2": {"secret": AGENT_MS2, "node": "ms2", "policies": []},
        },
        "anonymous_policies": ["platform-template"],
        "retired_tokens": ["agent_token"],
        "datacenter": "dc1",
        "timeout": 0,
    }
    return consul_acl.bootstrapped(**{**arguments, **overrides})


def test_each_node_token_is_bound_to_its_node_and_the_shared_one_is_deleted(consul):
    consul.add_token(SHARED, "agent_token", Policies=[{"Name": "platform-agent"}])
    first = bootstrap()
    assert first["result"] is True, first["comment"]
    assert consul.tokens[AGENT_MS1]["NodeIdentities"] == [{"NodeName": "ms1", "Datacenter": "dc1"}]
    assert consul.tokens[AGENT_MS2]["NodeIdentities"] == [{"NodeName": "ms2", "Datacenter": "dc1"}]
    assert consul.tokens[AGENT_MS1]["Policies"] == []
    assert SHARED not in consul.tokens
    assert "retired token agent_token deleted" in first["changes"]["acl"]
    assert ("DELETE", f"/v1/acl/token/acc-{SHARED}") in consul.sent
    # Idempotent: the second run finds everything as described.
    consul.sent.clear()
    second = bootstrap()
    assert second["result"] is True and second["changes"] == {} and consul.sent == []


def test_a_token_bound_to_another_node_is_put_back(consul):
    assert bootstrap()["result"] is True
    consul.tokens[AGENT_MS1]["NodeIdentities"] = [{"NodeName": "ms2", "Datacenter": "dc1"}]
    again = bootstrap()
    assert again["changes"] == {"acl": ["token agent token of ms1 set"]}
    assert consul.tokens[AGENT_MS1]["NodeIdentities"] == [{"NodeName": "ms1", "Datacenter": "dc1"}]


def test_test_mode_says_what_it_would_do_and_sends_nothing(consul, monkeypatch):
    monkeypatch.setattr(consul_acl, "__opts__", {"test": True}, raising=False)
    result = bootstrap()
    assert result["result"] is None and consul.sent == []
    assert "token agent token of ms1 created" in result["changes"]["acl"]
    # No secret in what goes to the job cache.
    assert AGENT_MS1 not in str(result)


def test_a_rotated_token_is_made_anew_and_the_old_one_deleted_after_it(consul):
    assert bootstrap()["result"] is True
    consul.add_token("hand-made", "someone's own token", Policies=[])
    rotated = str(uuid.uuid4())
    tokens = {
        "template_token": {"secret": str(uuid.UUID(int=7)), "policies": ["platform-template"]},
        "agent token of ms1": {"secret": AGENT_MS1, "node": "ms1", "policies": []},
        "agent token of ms2": {"secret": rotated, "node": "ms2", "policies": []},
    }
    consul.sent.clear()
    result = bootstrap(tokens=tokens)
    assert result["result"] is True, result["comment"]
    assert result["changes"]["acl"] == [
        "token agent token of ms2 created",
        "rotated-out token agent token of ms2 deleted",
    ]
    # Made before the old one goes, so the servers never hold neither.
    assert consul.sent == [("PUT", "/v1/acl/token"), ("DELETE", f"/v1/acl/token/acc-{AGENT_MS2}")]
    assert AGENT_MS2 not in consul.tokens
    assert consul.tokens[rotated]["NodeIdentities"] == [{"NodeName": "ms2", "Datacenter": "dc1"}]
    # Tokens the state does not name are left alone; the next run changes nothing.
    assert "hand-made" in consul.tokens and AGENT_MS1 in consul.tokens
    consul.sent.clear()
    assert bootstrap(tokens=tokens)["changes"] == {} and consul.sent == []
