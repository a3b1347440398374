"""The zookeeper_acl state against an in-memory ZooKeeper tree: what it creates, closes and leaves."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from kazoo.exceptions import NoAuthError, NodeExistsError, NoNodeError
from kazoo.security import ACL, Id, Permissions

_SPEC = importlib.util.spec_from_file_location(
    "zookeeper_acl", pathlib.Path(__file__).resolve().parents[2] / "salt" / "_states" / "zookeeper_acl.py"
)
zookeeper_acl = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(zookeeper_acl)

OPEN = ["world:anyone:cdrwa"]
MARATHON = ["digest:marathon:aGFzaA==:cdrwa"]
ADMIN = "platform-admin"


class FakeZooKeeper:
    """Znodes by path with their ACLs, as ZooKeeper 3.8 shows them: a client that may neither read
    nor administer a znode is refused its ACL, one that may only read sees its digest ids as
    ``user:x``, and one without ADMIN on it may not set it."""

    def __init__(self, nodes: dict[str, list[str]]):
        self.acls = {path: [zookeeper_acl.parse(e) for e in entries] for path, entries in nodes.items()}
        self.set_on: list[str] = []
        self.created: list[str] = []

    def _may(self, path: str, perm: int) -> bool:
        me = Id("digest", f"{ADMIN}:hash")
        return any(a.perms & perm and a.id in (me, Id("world", "anyone")) for a in self.acls[path])

    def exists(self, path):
        return path in self.acls

    def create(self, path, value, acl):
        if path in self.acls:
            raise NodeExistsError()
        self.acls[path] = list(acl)
        self.created.append(path)

    def get_acls(self, path):
        if path not in self.acls:
            raise NoNodeError()
        if not self._may(path, Permissions.READ | Permissions.ADMIN):
            raise NoAuthError()
        if self._may(path, Permissions.ADMIN):
            return list(self.acls[path]), None
        redacted = [
            ACL(a.perms, Id(a.id.scheme, a.id.id.split(":")[0] + ":x")) if a.id.scheme == "digest" else a
            for a in self.acls[path]
        ]
        return redacted, None

    def get_children(self, path):
        prefix = path.rstrip("/") + "/"
        return [p[len(prefix) :] for p in self.acls if p.startswith(prefix) and "/" not in p[len(prefix) :]]

    def set_acls(self, path, acls):
        if not self._may(path, Permissions.ADMIN):
            raise NoAuthError()
        self.acls[path] = list(acls)
        self.set_on.append(path)


@pytest.fixture
def run(monkeypatch):
    def run(zk: FakeZooKeeper, name: str, acl: list[str], reclaim=False, test=False):
        monkeypatch.setattr(zookeeper_acl, "__opts__", {"test": test}, raising=False)
        return zookeeper_acl._owned(zk, {"name": name, "result": True, "changes": {}, "comment": ""},
                                    name, [zookeeper_acl.parse(e) for e in acl], ADMIN, reclaim)  # fmt: skip

    return run


def test_acl_entries_read_and_print_as_zkcli_writes_them():
    entry = zookeeper_acl.parse("digest:mesos:ab+c/d==:cdrwa")
    assert entry == ACL(Permissions.ALL, Id("digest", "mesos:ab+c/d=="))
    assert zookeeper_acl.text(zookeeper_acl.parse("world:anyone:r")) == "world:anyone:r"
    for wrong in ("world:anyone", "digest:mesos:x:rwz", ":anyone:r"):
        with pytest.raises(ValueError, match="scheme:id:perms"):
            zookeeper_acl.parse(wrong)


def test_a_missing_znode_is_made_with_its_acl_and_the_second_run_changes_nothing(run):
    zk = FakeZooKeeper({"/": OPEN})
    assert run(zk, "/marathon", MARATHON)["changes"]["created"] == "/marathon"
    assert zk.acls["/marathon"] == [zookeeper_acl.parse(MARATHON[0])]
    again = run(zk, "/marathon", MARATHON)  # now closed to the admin, who may not even read its ACL
    assert (again["result"], again["changes"]) == (True, {})
    assert "left to its owner" in again["comment"]


def test_a_world_readable_znode_is_recognised_by_its_owners_name_behind_zookeepers_redaction(run):
    mesos = ["world:anyone:r", "digest:mesos:bWVzb3M=:cdrwa"]
    zk = FakeZooKeeper({"/": OPEN, "/mesos": mesos})
    assert zk.get_acls("/mesos")[0][1].id.id == "mesos:x"
    assert run(zk, "/mesos", mesos, reclaim=True)["changes"] == {}
    assert zk.set_on == []


def test_an_open_legacy_tree_is_closed_children_first_and_closed_children_are_left(run):
    zk = FakeZooKeeper(
        {
            "/": OPEN,
            "/marathon": OPEN,
            "/marathon/state": OPEN,
            "/marathon/state/app": OPEN,
            "/marathon/leader": MARATHON,  # made since with the credential: not ours to touch
            "/marathon/leader/member": OPEN,  # not entered: below a closed znode
        }
    )
    dry = run(zk, "/marathon", MARATHON, reclaim=True, test=True)
    assert (dry["result"], dry["changes"]["open znodes below it"], zk.set_on) == (None, 2, [])
    done = run(zk, "/marathon", MARATHON, reclaim=True)
    assert done["result"] is True
    assert zk.set_on == ["/marathon/state/app", "/marathon/state", "/marathon"]
    assert zk.acls["/marathon/leader/member"] == [zookeeper_acl.parse(OPEN[0])]
    assert run(zk, "/marathon", MARATHON, reclaim=True)["changes"] == {}


def test_the_root_is_closed_without_walking_below_it(run):
    zk = FakeZooKeeper({"/": OPEN, "/zookeeper": OPEN})
    wanted = ["world:anyone:r", f"digest:{ADMIN}:hash:cdrwa"]
    assert run(zk, "/", wanted)["result"] is True
    assert zk.set_on == ["/"]


def test_a_closed_znode_with_another_acl_is_reported_not_forced(run):
    zk = FakeZooKeeper({"/": OPEN, "/mesos": ["world:anyone:r", "digest:intruder:abc=:cdrwa"]})
    result = run(zk, "/mesos", ["world:anyone:r", "digest:mesos:def=:cdrwa"], reclaim=True)
    assert result["result"] is False
    assert "its owner sets it" in result["comment"] and "intruder" in result["comment"]
    assert zk.set_on == []
