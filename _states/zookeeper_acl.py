"""
ZooKeeper znodes with the ACL pillar gives them, through kazoo (requirements/salt.txt puts it
in the minion's Python).

ACL entries are written as zkCli's ``getAcl`` prints them, ``scheme:id:perms``:
``world:anyone:r``, ``digest:mesos:<base64 sha1 of mesos:password>:cdrwa``.

ZooKeeper's ACLs are per znode, not inherited. A znode is *open* when ``world:anyone`` may do
more than read it: what ZooKeeper gives the root, and what Mesos and Marathon give every znode
they create without a credential (a site from before they had one). An open znode is set to
the wanted ACL; with ``reclaim``, so is every open znode below it (children first, the named
one last, so an interrupted run leaves it open and the next run walks again). A znode that is
not open is never forced: it belongs to whoever created it.
"""

from __future__ import annotations

from typing import Any

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException, NoAuthError, NodeExistsError, NoNodeError
    from kazoo.handlers.threading import KazooTimeoutError
    from kazoo.security import ACL, Id, Permissions

    HAS_KAZOO = True
except ImportError:
    HAS_KAZOO = False

__virtualname__ = "zookeeper_acl"

PERMS = {"c": "CREATE", "d": "DELETE", "r": "READ", "w": "WRITE", "a": "ADMIN"}


def __virtual__():
    if HAS_KAZOO:
        return __virtualname__
    return (False, "zookeeper_acl needs kazoo in the minion's Python (requirements/salt.txt)")


def parse(entry: str) -> ACL:
    """``scheme:id:perms`` as an ACL (a digest id has a colon of its own)."""
    scheme, _, rest = entry.partition(":")
    identity, _, perms = rest.rpartition(":")
    if not scheme or not identity or not perms or set(perms) - set(PERMS):
        raise ValueError(f"ACL entry {entry!r} is not scheme:id:perms with perms of {''.join(PERMS)}")
    mask = 0
    for letter in perms:
        mask |= getattr(Permissions, PERMS[letter])
    return ACL(mask, Id(scheme, identity))


def text(acl: ACL) -> str:
    perms = "".join(letter for letter, name in PERMS.items() if acl.perms & getattr(Permissions, name))
    return f"{acl.id.scheme}:{acl.id.id}:{perms}"


def is_open(acls: list[ACL]) -> bool:
    return any(a.id == Id("world", "anyone") and a.perms & ~Permissions.READ for a in acls)


def same(current: list[ACL], wanted: list[ACL]) -> bool:
    """Whether a znode has the wanted ACL. ZooKeeper shows a client that may not administer a
    znode its digest ids as ``user:x``: such an id stands for any digest of that user."""

    def key(acl: ACL, redacted: bool) -> tuple:
        identity = acl.id.id.split(":")[0] + ":x" if redacted and acl.id.scheme == "digest" else acl.id.id
        return (acl.perms, acl.id.scheme, identity)

    redacted = any(a.id.scheme == "digest" and a.id.id.endswith(":x") for a in current)
    return sorted(key(a, redacted) for a in current) == sorted(key(a, redacted) for a in wanted)


def _open_below(client: Any, path: str) -> list[str]:
    """Every open znode under ``path``, deepest first. A closed one is not entered."""
    found = []
    try:
        children = client.get_children(path)
    except NoAuthError:  # open to anyone but for reading: its children stay as they are
        return found
    for child in sorted(children):
        child_path = path.rstrip("/") + "/" + child
        try:
            acls, _ = client.get_acls(child_path)
        except NoNodeError:  # an ephemeral one whose session ended
            continue
        except NoAuthError:  # closed to us, so to anyone else: its owner's
            continue
        if is_open(acls):
            found.extend(_open_below(client, child_path))
            found.append(child_path)
    return found


def owned(
    name: str,
    acl: list[str],
    hosts: str,
    user: str,
    password: str,
    reclaim: bool = False,
    timeout: float = 120,
) -> dict[str, Any]:
    """
    The znode ``name`` exists with exactly ``acl``, made as ``user`` (a digest user the parent's
    ACL lets create). An open znode (and, with ``reclaim``, every open one below it) is set to
    ``acl``. Waits up to ``timeout`` seconds for the ensemble to answer (a quorum forming).

    .. code-block:: yaml

        zookeeper-znode-/marathon-owned:
          zookeeper_acl.owned:
            - name: /marathon
            - acl: ['digest:marathon:<base64 sha1>:cdrwa']
            - hosts: 192.168.33.11:2181,192.168.33.12:2181,192.168.33.13:2181
            - user: platform-admin
            - password: ...
            - reclaim: true
    """
    ret: dict[str, Any] = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        wanted = [parse(entry) for entry in acl]
    except ValueError as exc:
        ret.update(result=False, comment=str(exc))
        return ret
    client = KazooClient(hosts=hosts, auth_data=[("digest", f"{user}:{password}")], timeout=10)
    try:
        client.start(timeout=float(timeout))
    except KazooTimeoutError:
        ret.update(result=False, comment=f"ZooKeeper at {hosts} did not answer within {timeout} s (no quorum?)")
        return ret
    try:
        return _owned(client, ret, name, wanted, user, reclaim)
    except KazooException as exc:
        ret.update(result=False, comment=f"ZooKeeper refused a change to {name}: {type(exc).__name__} {exc}")
        return ret
    finally:
        client.stop()
        client.close()


def _owned(client: Any, ret: dict[str, Any], name: str, wanted: list[ACL], user: str, reclaim: bool) -> dict[str, Any]:
    test = bool(__opts__.get("test"))
    if not client.exists(name):
        ret["changes"] = {"created": name, "acl": [text(a) for a in wanted]}
        if test:
            ret.update(result=None, comment=f"{name} would be created")
            return ret
        try:
            client.create(name, b"", acl=wanted)
            ret["comment"] = f"{name} created"
            return ret
        except NodeExistsError:  # made meanwhile by its owner, as it would have been by us
            ret["changes"] = {}
    try:
        current, _ = client.get_acls(name)
    except NoAuthError:  # ZooKeeper shows an ACL only to a client that may read or administer the znode
        ret["comment"] = f"{name} is closed to {user} and left to its owner"
        return ret
    if same(current, wanted):
        ret["comment"] = f"{name} has its ACL"
        return ret
    if not is_open(current):
        ret.update(
            result=False,
            comment=f"{name} has the ACL {', '.join(map(text, current))}, not {', '.join(map(text, wanted))}, "
            "and is closed to anyone else: its owner sets it (zkCli: addauth digest <user>:<password>, setAcl)",
        )
        return ret
    paths = (_open_below(client, name) if reclaim else []) + [name]
    ret["changes"] = {"acl": {"old": [text(a) for a in current], "new": [text(a) for a in wanted]}}
    if len(paths) > 1:
        ret["changes"]["open znodes below it"] = len(paths) - 1
    if test:
        ret.update(result=None, comment=f"{len(paths)} open znode(s) would be closed under {name}")
        return ret
    for path in paths:
        try:
            client.set_acls(path, wanted)
        except NoNodeError:  # an ephemeral one whose session ended
            continue
    ret["comment"] = f"{len(paths)} open znode(s) closed under {name}"
    return ret
