"""
Consul's gossip keyring holding one key, pillar's: installed on every member, made the one
they encrypt with, every other key removed (Consul 1.8: ``/v1/operator/keyring``, which needs
a token with ``keyring`` write, the master token).

An agent reads ``encrypt`` only at its first start; afterwards its keyring (in its data dir)
is what counts, and keyring operations through any agent reach every member by gossip. So a
rotated key is applied here, once, on one server: install, use, then remove the old keys, so
no member is ever left without the key the others speak. A member that is down meanwhile
keeps only the old key and cannot rejoin: ``consul keyring -install`` on it, or a fresh data dir.
No key is ever shown: the changes and the comment give counts only.
"""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 30


def _pools(url: str, token: str) -> list[dict]:
    answer = requests.get(f"{url}/v1/operator/keyring", headers={"X-Consul-Token": token}, timeout=TIMEOUT)
    if answer.status_code != 200:
        raise RuntimeError(f"listing the keyring: HTTP {answer.status_code}: {answer.text.strip()[:200]}")
    return answer.json()


def _send(method: str, url: str, token: str, key: str, what: str) -> None:
    answer = requests.request(
        method, f"{url}/v1/operator/keyring", json={"Key": key}, headers={"X-Consul-Token": token}, timeout=TIMEOUT
    )
    if answer.status_code != 200:  # e.g. "2/10 nodes reported failure": a member is down
        raise RuntimeError(f"{what}: HTTP {answer.status_code}: {answer.text.strip()[:300]}")


def single_key(name: str, key: str, token: str, url: str = "http://127.0.0.1:8500") -> dict[str, Any]:
    """
    Every keyring pool (LAN, and WAN on servers) holds ``key`` on all its members and no other key.

    .. code-block:: yaml

        consul-gossip-keyring-single-key:
          consul_keyring.single_key:
            - key: {{ consul.encrypt }}
            - token: {{ consul.acl.master_token }}
    """
    ret: dict[str, Any] = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        pools = _pools(url, token)
    except (RuntimeError, requests.RequestException) as exc:
        ret.update(result=False, comment=f"Consul's keyring at {url}: {exc}")
        return ret
    others = sorted({k for pool in pools for k in pool.get("Keys", {})} - {key})
    missing = sum(pool.get("NumNodes", 0) - pool.get("Keys", {}).get(key, 0) for pool in pools)
    if not others and not missing:
        ret["comment"] = "every member's keyring holds the site's gossip key only"
        return ret
    ret["changes"] = {"gossip key": {"members without it": missing, "other keys removed": len(others)}}
    if __opts__.get("test"):
        ret.update(result=None, comment="the gossip keyring would be set to the site's key")
        return ret
    try:
        _send("POST", url, token, key, "installing the site's key")
        _send("PUT", url, token, key, "making it the key every member encrypts with")
        for old in others:
            _send("DELETE", url, token, old, "removing an old key")
    except (RuntimeError, requests.RequestException) as exc:
        ret.update(result=False, comment=f"Consul refused a keyring change ({exc}); the old keys are kept")
        return ret
    ret["comment"] = f"the site's gossip key installed and in use, {len(others)} old key(s) removed"
    return ret
