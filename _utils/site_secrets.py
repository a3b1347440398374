"""
The site's secrets: the catalog in pillar (pillar/secrets.sls), the store on the master
(``site_secrets_file``, mode 0600, outside git), and which node receives which value.

Shared by the ``site_secrets`` ext_pillar (what each minion gets) and the ``site`` runner
(generation, rotation, the runners' own reads). Salt loads it as ``__utils__["site_secrets.*"]``.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import os
import secrets
import string
import tempfile
import uuid
from typing import Any, NamedTuple

import salt.utils.dictupdate
import salt.utils.yaml
from salt.exceptions import SaltInvocationError

KINDS = ("gossip_key", "password", "token", "uuid")
# What a secret's users may receive in its place: a check value, stored beside it.
HASH_KINDS = ("bcrypt", "zookeeper_digest")
PASSWORD_ALPHABET = string.ascii_letters + string.digits
DEFAULT_PASSWORD_LENGTH = 24
# bcrypt's work factor, as `htpasswd -B` sets it. A verifier pays it on every request (the
# registry: 380 ms a request at Python's default 12 here, benchmarks/security_cost.py), and it
# adds nothing against guessing a generated password of 24 random characters (143 bits).
BCRYPT_ROUNDS = 5


class Secret(NamedTuple):
    """One value to generate: a catalog entry, or one environment's or one node's copy of it."""

    key: str  # the store's key: the catalog name, with "/<env>" or "/<node>" for a copy
    name: str
    env: str | None
    pillar_path: str  # colon-delimited, {env} or {node} filled in
    kind: str
    length: int
    roles: tuple[str, ...]
    applied_by: str  # how a rotated value reaches its users: highstate, app.deploy, zookeeper-acl, consul-acl
    # Where the value's hash goes (the checking side, e.g. the registry's htpasswd), and to whom.
    hash_pillar_path: str = ""
    hash_kind: str = ""
    hash_roles: tuple[str, ...] = ()
    hash_user: str = ""  # zookeeper_digest: the user the digest names
    # A per-node copy: the node it belongs to, and the roles that hold every node's copy
    # (Consul's servers, which create each node's token).
    node: str | None = None
    all_copies_roles: tuple[str, ...] = ()
    # Holders by these roles apply a rotated value before the others (Consul's servers create
    # the new token the other holders then present).
    first_roles: tuple[str, ...] = ()


PER = {"environment": "{env}", "node": "{node}"}


def _copies(spec: dict[str, Any], pillar: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    """(env, node) of each copy a catalog entry makes: one, one per environment, or one per
    node of the topology that has one of its roles."""
    platform = pillar.get("platform") or {}
    if spec.get("per") == "environment":
        return [(env, None) for env in platform.get("environments") or []]
    if spec.get("per") == "node":
        roles = set(spec.get("roles") or ())
        nodes = platform.get("nodes") or {}
        return [(None, n) for n in sorted(nodes) if roles & set(nodes[n].get("roles") or ())]
    return [(None, None)]


def _filled(path: str, placeholders: dict[str, str]) -> str:
    for placeholder, value in placeholders.items():
        path = path.replace(placeholder, value)
    return path


def catalog(pillar: dict[str, Any]) -> list[Secret]:
    """Every secret the site needs, from pillar ``secrets``; per-environment and per-node ones once per copy."""
    entries = pillar.get("secrets") or {}
    problems, result = [], []
    for name, spec in sorted(entries.items()):
        spec = spec or {}
        kind, path = spec.get("kind"), str(spec.get("pillar") or "")
        if kind not in KINDS:
            problems.append(f"secrets:{name}:kind is {kind!r}; it must be one of {', '.join(KINDS)}")
        if not path:
            problems.append(f"secrets:{name}:pillar is missing: the pillar key the value goes to")
        hashed = spec.get("hash") or {}
        if hashed and (hashed.get("kind") not in HASH_KINDS or not hashed.get("pillar")):
            problems.append(f"secrets:{name}:hash needs a pillar key and a kind, one of {', '.join(HASH_KINDS)}")
        if hashed.get("kind") == "zookeeper_digest" and not hashed.get("user"):
            problems.append(f"secrets:{name}:hash: a zookeeper_digest needs the user it names (hash:user)")
        per = spec.get("per")
        if per is not None and per not in PER:
            problems.append(f"secrets:{name}:per is {per!r}; it must be one of {', '.join(PER)}, or absent")
            continue
        for kind_of_copy, placeholder in PER.items():
            if (per == kind_of_copy) != (placeholder in path):
                problems.append(
                    f"secrets:{name}: a per-{kind_of_copy} secret needs {placeholder} in its pillar path, and only one"
                )
        if spec.get("all_copies_to") and per != "node":
            problems.append(f"secrets:{name}:all_copies_to is for per-node secrets only")
        for env, node in _copies(spec, pillar):
            copy_of = env or node
            placeholders = {"{env}": str(env), "{node}": str(node)}
            result.append(
                Secret(
                    key=f"{name}/{copy_of}" if copy_of else name,
                    name=name,
                    env=env,
                    pillar_path=_filled(path, placeholders),
                    kind=str(kind),
                    length=int(spec.get("length") or DEFAULT_PASSWORD_LENGTH),
                    roles=tuple(spec.get("roles") or ()),
                    applied_by=str(spec.get("applied_by") or "highstate"),
                    hash_pillar_path=_filled(str(hashed.get("pillar") or ""), placeholders),
                    hash_kind=str(hashed.get("kind") or ""),
                    hash_roles=tuple(hashed.get("roles") or ()),
                    hash_user=str(hashed.get("user") or ""),
                    node=node,
                    all_copies_roles=tuple(spec.get("all_copies_to") or ()),
                    first_roles=tuple(spec.get("applied_first_on") or ()),
                )
            )
    if problems:
        raise SaltInvocationError("pillar secrets (pillar/secrets.sls) is invalid:\n  " + "\n  ".join(problems))
    return result


def generate(secret: Secret) -> str:
    """A fresh value from the operating system's CSPRNG (Python's ``secrets``)."""
    if secret.kind == "gossip_key":  # what `consul keygen` makes: 32 random bytes, base64
        return base64.b64encode(secrets.token_bytes(32)).decode()
    if secret.kind == "password":
        return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(secret.length))
    if secret.kind == "uuid":  # Consul's ACL tokens are UUIDs (122 random bits)
        return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
    return secrets.token_urlsafe(32)


def hash_of(secret: Secret, value: str) -> str:
    """The check value a secret's verifier keeps: bcrypt, what `htpasswd -B` writes; or a
    ZooKeeper digest id, ``user:base64(sha1(user:password))``, what an ACL names."""
    if secret.hash_kind == "zookeeper_digest":
        credential = f"{secret.hash_user}:{value}".encode()
        return f"{secret.hash_user}:{base64.b64encode(hashlib.sha1(credential).digest()).decode()}"
    import bcrypt  # the master's only (requirements/master.txt)

    return bcrypt.hashpw(value.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def complete(secret: Secret, entry: dict[str, str]) -> bool:
    """Add a missing hash to a stored value (a store written before the catalog hashed it)."""
    if secret.hash_kind and entry.get("value") and not entry.get("hash"):
        entry["hash"] = hash_of(secret, entry["value"])
        return True
    return False


def _document(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return salt.utils.yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return {}


def load(path: str) -> dict[str, dict[str, str]]:
    """The store: key -> {value, created}; empty when the site has none yet."""
    return _document(path).get("secrets") or {}


def load_pins(path: str) -> dict[str, str]:
    """What the site pinned beside its secrets (``ca``: the cluster CA's key pin); not secret."""
    return _document(path).get("pins") or {}


def save(path: str, store: dict[str, dict[str, str]], pins: dict[str, str] | None = None) -> None:
    """Write the store atomically, readable by its owner only (file 0600; a new directory 0700).
    The pins already there are kept unless ``pins`` replaces them."""
    document: dict[str, Any] = {"secrets": store}
    pins = load_pins(path) if pins is None else pins
    if pins:
        document["pins"] = pins
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".secrets-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("# This site's secrets, written by `salt-run site.secrets`. Never commit or copy it.\n")
            salt.utils.yaml.safe_dump(document, out, default_flow_style=False)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def new_entry(secret: Secret) -> dict[str, str]:
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    entry = {"value": generate(secret), "created": created}
    complete(secret, entry)
    return entry


def receives(secret: Secret, node_id: str, node: dict[str, Any]) -> bool:
    """Whether a node of the topology gets this secret: one of its roles, and its own
    environment's or its own copy (or every node's copy, by a role of ``all_copies_to``)."""
    roles = set(node.get("roles") or ())
    if secret.node and roles & set(secret.all_copies_roles):
        return True
    if not set(secret.roles) & roles:
        return False
    return secret.env in (None, node.get("env")) and secret.node in (None, node_id)


def _lookup(pillar: dict[str, Any], path: str) -> Any:
    value: Any = pillar
    for part in path.split(":"):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _nest(path: str, value: str) -> dict[str, Any]:
    result: Any = value
    for part in reversed(path.split(":")):
        result = {part: result}
    return result


def for_node(
    minion_id: str, pillar: dict[str, Any], store: dict[str, dict[str, str]], pins: dict[str, str] | None = None
) -> dict[str, Any]:
    """
    The secrets ``minion_id`` receives, as pillar to merge over its SLS pillar, and the site's
    pins, which every node receives (``ca:key_pin``: the key its cluster CA must have). Refuses, naming
    the key, a secret that SLS pillar already sets (a committed or hand-written value would
    otherwise be what a site runs with) and a secret the store does not hold yet.
    """
    wanted = catalog(pillar)
    node = ((pillar.get("platform") or {}).get("nodes") or {}).get(minion_id)
    paths = [s.pillar_path for s in wanted] + [s.hash_pillar_path for s in wanted if s.hash_pillar_path]
    preset = sorted(path for path in paths if _lookup(pillar, path) not in (None, ""))
    if preset:
        raise SaltInvocationError(
            f"{', '.join(preset)} set in SLS pillar; secrets come only from this site's store "
            "(salt-run site.secrets generates them): remove the value from pillar"
        )
    if node is None:  # not a platform node (the master's own pillar): it receives nothing
        return {}
    check_store(wanted, store)
    result: dict[str, Any] = {"ca": {"key_pin": pins["ca"]}} if (pins or {}).get("ca") else {}
    for secret in wanted:
        if receives(secret, minion_id, node):
            result = salt.utils.dictupdate.merge(result, _nest(secret.pillar_path, store[secret.key]["value"]))
        if secret.hash_kind and receives(
            secret._replace(roles=secret.hash_roles, all_copies_roles=()), minion_id, node
        ):
            result = salt.utils.dictupdate.merge(result, _nest(secret.hash_pillar_path, store[secret.key]["hash"]))
    return result


def check_store(wanted: list[Secret], store: dict[str, dict[str, str]]) -> None:
    """Refuse, with the fix, a store that lacks a value (or its hash) of the catalog ``wanted``."""
    missing = sorted(
        s.key
        for s in wanted
        if not (store.get(s.key) or {}).get("value") or (s.hash_kind and not store[s.key].get("hash"))
    )
    if missing:
        raise SaltInvocationError(f"no value yet for secret(s) {', '.join(missing)}: run `salt-run site.secrets`")


def for_runners(pillar: dict[str, Any], store: dict[str, dict[str, str]]) -> dict[str, Any]:
    """
    ``pillar`` with every secret at its pillar key, for the master's runners: they deploy the
    app (whose secrets no node receives) and sign in to Marathon and Mesos. Used in the
    master's own process; never sent to a minion.
    """
    secrets_pillar: dict[str, Any] = {}
    for secret in catalog(pillar):
        secrets_pillar = salt.utils.dictupdate.merge(
            secrets_pillar, _nest(secret.pillar_path, value(store, secret.key))
        )
    return salt.utils.dictupdate.merge(copy.deepcopy(pillar), secrets_pillar)


def value(store: dict[str, dict[str, str]], name: str, copy_of: str | None = None) -> str:
    """One secret's value (``copy_of``: the environment or node of a copy), for a runner; a
    clear error when the store lacks it."""
    key = f"{name}/{copy_of}" if copy_of else name
    entry = store.get(key) or {}
    if not entry.get("value"):
        raise SaltInvocationError(f"no value yet for secret {key}: run `salt-run site.secrets`")
    return str(entry["value"])
