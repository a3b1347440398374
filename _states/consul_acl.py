"""
Consul's ACL policies and tokens as pillar describes them, made on a server through the local
agent's HTTP API with the master token (Consul 1.8: ``/v1/acl/policy``, ``/v1/acl/token``).

Tokens are created with the SecretID the site's store generated, so every holder has its
token in its config before the token exists, and the state can tell a token it made from
one it must make by asking who the secret is (``/v1/acl/token/self``). A token's description
is its name: once the token with the wanted secret exists, any other token of that
description is a rotated-out one and is deleted (the new one is made first). Otherwise nothing
is deleted but ``retired_tokens``: a policy or token the state no longer names stays until an
operator removes it.
"""

from __future__ import annotations

import time
from typing import Any

import requests

ANONYMOUS = "00000000-0000-0000-0000-000000000002"
TIMEOUT = 5


class _Api:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-Consul-Token"] = token

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"X-Consul-Token": token} if token else {}
        return self.session.get(self.url + path, headers=headers, timeout=TIMEOUT)

    def send(self, method: str, path: str, body: dict) -> None:
        answer = self.session.request(method, self.url + path, json=body or None, timeout=TIMEOUT)
        if answer.status_code != 200:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code}: {answer.text.strip()[:300]}")


def _wait_for_acls(api: _Api, timeout: float) -> str | None:
    """None once the ACL system answers the master token (a leader holds it), else why not."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while True:
        try:
            answer = api.get("/v1/acl/policies")
            if answer.status_code == 200:
                return None
            last = f"HTTP {answer.status_code}: {answer.text.strip()[:200]}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        if time.monotonic() >= deadline:
            return last
        time.sleep(2)


def _policy_names(token: dict) -> list[str]:
    return sorted(policy["Name"] for policy in token.get("Policies") or [])


def _identities(token: dict) -> list[tuple[str, str]]:
    return sorted((i["NodeName"], i["Datacenter"]) for i in token.get("NodeIdentities") or [])


def _token_body(secret: str, description: str, policies: list[str], node: tuple[str, str] | None) -> dict:
    body = {"SecretID": secret, "Description": description, "Policies": [{"Name": p} for p in policies]}
    if node:  # write on that node only, read on services (Consul's node identity)
        body["NodeIdentities"] = [{"NodeName": node[0], "Datacenter": node[1]}]
    return body


def bootstrapped(
    name: str,
    master_token: str,
    policies: dict[str, str],
    tokens: dict[str, dict[str, Any]],
    anonymous_policies: list[str],
    retired_tokens: list[str] | None = None,
    datacenter: str = "dc1",
    url: str = "http://127.0.0.1:8500",
    timeout: float = 120,
) -> dict[str, Any]:
    """
    Every policy of ``policies`` (name -> rules) exists with those rules; every token of
    ``tokens`` (description -> ``{"secret": <SecretID>, "policies": [names]}``, and
    ``"node": <name>`` for a node's own token: that node's identity in ``datacenter``) exists
    with those policies; the anonymous token carries ``anonymous_policies``; no token is
    described by a name of ``retired_tokens``.

    .. code-block:: yaml

        consul-acl-bootstrapped:
          consul_acl.bootstrapped:
            - master_token: {{ consul.acl.master_token }}
            - policies: {platform-agent: 'node_prefix "" { policy = "write" }'}
            - tokens: {agent: {secret: ..., policies: [platform-agent]}}
            - anonymous_policies: []
    """
    ret: dict[str, Any] = {"name": name, "result": True, "changes": {}, "comment": ""}
    api = _Api(url, master_token)
    problem = _wait_for_acls(api, float(timeout))
    if problem:
        ret.update(result=False, comment=f"Consul's ACL system did not answer the master token at {url}: {problem}")
        return ret
    todo: list[tuple[str, str, str, dict]] = []  # (method, change, path, body)
    for policy_name, rules in sorted(policies.items()):
        answer = api.get(f"/v1/acl/policy/name/{policy_name}")
        current = answer.json() if answer.status_code == 200 else None
        if current is None:
            todo.append(
                ("PUT", f"policy {policy_name} created", "/v1/acl/policy", {"Name": policy_name, "Rules": rules})
            )
        elif current.get("Rules", "").strip() != rules.strip():
            body = {"Name": policy_name, "Rules": rules}
            todo.append(("PUT", f"policy {policy_name} rules updated", f"/v1/acl/policy/{current['ID']}", body))
    # description -> AccessorID of the token holding the wanted secret (None: it is made below)
    holding: dict[str, str | None] = {}
    for description, spec in sorted(tokens.items()):
        wanted = sorted(spec["policies"])
        node = (spec["node"], datacenter) if spec.get("node") else None
        answer = api.get("/v1/acl/token/self", token=spec["secret"])
        if answer.status_code != 200:
            body = _token_body(spec["secret"], description, wanted, node)
            todo.append(("PUT", f"token {description} created", "/v1/acl/token", body))
            holding[description] = None
            continue
        current = answer.json()
        holding[description] = current["AccessorID"]
        if _policy_names(current) != wanted or _identities(current) != ([node] if node else []):
            description = current.get("Description", description)
            body = _token_body(spec["secret"], description, wanted, node)
            todo.append(("PUT", f"token {description} set", f"/v1/acl/token/{current['AccessorID']}", body))
    listed = api.get("/v1/acl/tokens")
    if listed.status_code != 200:
        ret.update(result=False, comment=f"cannot list Consul's ACL tokens: HTTP {listed.status_code}")
        return ret
    for token in listed.json():
        description, path = token.get("Description"), f"/v1/acl/token/{token['AccessorID']}"
        if description in (retired_tokens or []):
            todo.append(("DELETE", f"retired token {description} deleted", path, {}))
        elif description in holding and token["AccessorID"] != holding[description]:
            # After the creations above: a holder still on the old secret is refused only
            # until its own highstate, which site.secrets runs right after the servers'.
            todo.append(("DELETE", f"rotated-out token {description} deleted", path, {}))
    anonymous = api.get(f"/v1/acl/token/{ANONYMOUS}")
    if anonymous.status_code != 200:
        ret.update(result=False, comment=f"cannot read Consul's anonymous token: HTTP {anonymous.status_code}")
        return ret
    if _policy_names(anonymous.json()) != sorted(anonymous_policies):
        body = {"Description": "Anonymous Token", "Policies": [{"Name": p} for p in sorted(anonymous_policies)]}
        todo.append(("PUT", "anonymous token policies set", f"/v1/acl/token/{ANONYMOUS}", body))
    if not todo:
        ret["comment"] = "Consul's ACL policies and tokens are as pillar describes them"
        return ret
    # Neither secrets nor rules in the changes: the output goes to the master's job cache.
    ret["changes"] = {"acl": [change for _, change, _, _ in todo]}
    if __opts__.get("test"):
        ret.update(result=None, comment=f"{len(todo)} ACL change(s) would be made")
        return ret
    try:
        for method, _, path, body in todo:
            api.send(method, path, body)
    except (RuntimeError, requests.RequestException) as exc:
        ret.update(result=False, comment=f"Consul refused an ACL change: {exc}")
        return ret
    ret["comment"] = f"{len(todo)} ACL change(s) made"
    return ret
