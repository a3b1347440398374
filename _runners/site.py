"""
This site's secrets: generate them, list them, rotate one.

The catalog is pillar ``secrets`` (pillar/secrets.sls); the values live on the master in
``site_secrets_file`` (.salt/secrets.yaml, mode 0600, outside git), and the ``site_secrets``
ext_pillar gives each node only those its roles use. Values are never printed.
"""

from __future__ import annotations

import logging
from typing import Any

from salt.exceptions import SaltInvocationError

log = logging.getLogger(__name__)


# Secrets whose users keep the old value where a new pillar value cannot reach it.
NOT_BY_PILLAR = {
    "consul-acl": "Consul's servers bootstrapped their ACL system with it and keep it as the "
    "management token, so a new value needs the old one replaced through Consul's ACL API (not built "
    "yet, see README)",
    "zookeeper-acl": "the znodes belong to the digest that created them, so a new password would lock "
    "its holders out of their own znodes (rotation needs every one re-ACLed to the new digest first, "
    "not built yet, see README)",
}


def _progress(message: str) -> None:
    __utils__["platform_runner.progress"](message, globals().get("__jid_event__"))


def _fail(result: dict[str, Any], comment: str) -> dict[str, Any]:
    return __utils__["platform_runner.fail"](__context__, result, comment)


def _store_path() -> str:
    path = __opts__.get("site_secrets_file")
    if not path:
        raise SaltInvocationError("the master has no site_secrets_file option (see master.conf)")
    return str(path)


def _catalog() -> list:
    # The SLS pillar carries the catalog even while the ext_pillar refuses (no values yet).
    return __utils__["site_secrets.catalog"](__salt__["pillar.show_pillar"]())


def _row(secret, entry: dict[str, str], state: str) -> dict[str, str]:
    return {
        "secret": secret.key,
        "pillar": secret.pillar_path,
        "receives": ", ".join(secret.roles) or "the master's runners",
        "created": entry.get("created", ""),
        "state": state,
    }


def secrets(rotate: str | None = None) -> dict[str, Any]:
    """
    Generate every secret of the catalog the store does not hold yet (existing ones are kept),
    or, with ``rotate``, a new value for one secret (``name``, or ``name/env`` for one
    environment's), then apply it where it is used: the nodes that receive it are
    re-converged one at a time, the app is re-deployed to its environment at the version it
    runs. A rotation is refused, changing nothing, while the pillar is invalid or a node that
    must apply it does not answer.

    CLI Example:

    .. code-block:: bash

        salt-run site.secrets
        salt-run site.secrets rotate=vrrp_password
        salt-run site.secrets rotate=app_secret_key/test
    """
    result: dict[str, Any] = {"result": True, "retcode": 0}
    try:
        path = _store_path()
        catalog = _catalog()
    except SaltInvocationError as exc:
        return _fail(result, str(exc))
    store = __utils__["site_secrets.load"](path)
    chosen = []
    if rotate:
        chosen = [s for s in catalog if rotate in (s.key, s.name)]
        if not chosen:
            known = ", ".join(sorted({s.name for s in catalog} | {s.key for s in catalog}))
            return _fail(result, f"no secret {rotate!r} in pillar secrets; known: {known}; nothing was changed")
        refused = sorted({s for s in chosen if s.applied_by in NOT_BY_PILLAR}, key=lambda s: s.name)
        if refused:
            return _fail(
                result,
                f"{refused[0].name} cannot be rotated by pillar: {NOT_BY_PILLAR[refused[0].applied_by]}; "
                "nothing was changed",
            )
        try:
            _check_rotation(chosen)
        except SaltInvocationError as exc:
            return _fail(result, f"{exc}; nothing was changed")
    rows, changed = [], []
    for secret in catalog:
        entry = store.get(secret.key) or {}
        if secret in chosen or not entry.get("value"):
            state = "rotated" if entry.get("value") else "generated"
            store[secret.key] = entry = __utils__["site_secrets.new_entry"](secret)
            changed.append(secret)
        elif __utils__["site_secrets.complete"](secret, entry):
            state = "hashed"
            changed.append(secret)
        else:
            state = "kept"
        rows.append(_row(secret, entry, state))
    if changed:
        __utils__["site_secrets.save"](path, store)
        _progress(f"secrets: {len(changed)} new value(s) written to {path}")
    result["secrets"] = rows
    result["comment"] = f"{len(changed)} secret(s) generated or rotated, {len(rows) - len(changed)} kept, in {path}"
    if chosen:
        problems = _apply_rotation(chosen)
        if problems:
            return _fail(result, "the new value is stored but not applied everywhere:\n  " + "\n  ".join(problems))
        result["comment"] += "; applied where it is used"
    return result


def _receivers(rotated: list) -> list[str]:
    """The nodes that use a rotated secret: those holding its hash (the registry) first, so the
    checking side knows the new value before any client sends it, then those of its
    ``applied_first_on`` roles (Consul's servers, which create the new token), then the rest."""
    nodes = (__salt__["pillar.show_pillar"]().get("platform") or {}).get("nodes") or {}

    def holding(secrets: list) -> list[str]:
        return sorted(
            n for n, spec in nodes.items() if any(__utils__["site_secrets.receives"](s, n, spec) for s in secrets)
        )

    checkers = holding([s._replace(roles=s.hash_roles, all_copies_roles=()) for s in rotated if s.hash_kind])
    users = holding(rotated)
    first_roles = {role for secret in rotated for role in secret.first_roles}
    first = [node for node in users if first_roles & set(nodes[node].get("roles") or ())]
    ordered = checkers + first + users
    return list(dict.fromkeys(ordered))


def _check_rotation(rotated: list) -> None:
    """Before a new value is written: the platform validates and every node that must apply it answers."""
    verdict = __salt__["cluster.validate"]()
    if verdict.get("retcode"):
        raise SaltInvocationError(verdict.get("comment", "pillar is invalid"))
    targets = _receivers(rotated)
    if targets:
        client = __utils__["platform_runner.local_client"](__opts__)
        answers = client.cmd(targets, "test.ping", tgt_type="list", timeout=30)
        silent = [node for node in targets if answers.get(node) is not True]
        if silent:
            raise SaltInvocationError(f"nodes not answering: {', '.join(silent)} (they must apply the new value)")


def _apply_rotation(rotated: list) -> list[str]:
    """
    Re-converge the nodes receiving a rotated secret one at a time (peers sharing it, such as
    the keepalived pair, disagree only during one node's run), stopping at the first failure;
    re-deploy the app, at the version it runs, for an app secret.
    """
    client = __utils__["platform_runner.local_client"](__opts__)
    for node_id in _receivers(rotated):
        _progress(f"applying the new value: highstate on {node_id}")
        reply = client.cmd(node_id, "state.apply", kwarg={"queue": True}, timeout=600).get(node_id)
        failures = [f"{node_id}: {failure}" for failure in __utils__["platform_runner.state_failures"](reply)]
        if failures:
            return failures
    problems = []
    for env in sorted({s.env for s in rotated if s.applied_by == "app.deploy" and s.env}):
        _progress(f"applying the new value: app.redeploy env={env}")
        outcome = __salt__["app.redeploy"](env=env)
        if outcome.get("retcode"):
            problems.append(f"app.redeploy env={env}: {outcome.get('comment')}")
    return problems


def _published_ca() -> tuple[str | None, str]:
    """The CA node and the certificate in its mine entry (empty before its first highstate)."""
    pillar = __salt__["pillar.show_pillar"]()
    modules = __utils__["platform_runner.modules"](__opts__, __context__)
    node = modules["topology.ca_node"](pillar.get("platform") or {})
    mine_key = modules["topology.settings"]("ca", pillar)["mine_key"]
    pem = __salt__["mine.get"](node, mine_key, tgt_type="list").get(node, "") if node else ""
    return node, pem


def pin_ca(replace: bool = False) -> dict[str, Any]:
    """
    Pin the cluster CA: record the SHA-256 of its public key, as the CA node publishes it, in
    the site's store (beside the secrets); every node then trusts a CA certificate only with
    that key (``cluster_ca.trusted``). ``cluster.up`` pins it after the CA node's step, the
    first time. A published key that differs from the pin is refused, changing nothing,
    unless ``replace=True``: a CA made again on purpose, whose key the operator has checked on
    the CA node (``openssl x509 -pubkey -noout -in /etc/pki/platform-ca/ca.crt | openssl pkey
    -pubin -outform der | sha256sum``).

    CLI Example:

    .. code-block:: bash

        salt-run site.pin_ca
        salt-run site.pin_ca replace=True
    """
    result: dict[str, Any] = {"result": True, "retcode": 0}
    try:
        path = _store_path()
    except SaltInvocationError as exc:
        return _fail(result, str(exc))
    node, pem = _published_ca()
    if not pem:
        return _fail(result, f"no CA certificate in the mine of {node or 'a CA node'} yet: run `salt-run cluster.up`")
    found = __utils__["platform_runner.modules"](__opts__, __context__)["cluster_ca.key_pin"](pem)
    pins = __utils__["site_secrets.load_pins"](path)
    result["key_pin"] = found
    if pins.get("ca") == found:
        result["comment"] = f"the cluster CA of {node} is pinned (key sha256:{found})"
        return result
    if pins.get("ca") and not replace:
        return _fail(
            result,
            f"the CA {node} publishes has key sha256:{found}, not the pinned sha256:{pins['ca']}; nothing was "
            "changed and no node trusts it. If the CA was made again on purpose, check that key on "
            f"{node}, then `salt-run site.pin_ca replace=True`",
        )
    store = __utils__["site_secrets.load"](path)
    __utils__["site_secrets.save"](path, store, {**pins, "ca": found})
    result["comment"] = f"pinned the cluster CA of {node} (key sha256:{found}) in {path}"
    _progress(result["comment"])
    return result
