"""State store: JSON documents by (kind, key), plus leader election among the masters.

`ZooKeeperStore` keeps everything under one ZooKeeper path so that a restarted or newly elected
master finds apps, versions, deployments, tasks and agents where the last leader left them.
`MemoryStore` is the same interface in a dict, for tests and single-master runs.

A zk:// URL may carry one credential before the hosts, zk://user:pass@h1:2181,h2:2181/path
(Marathon's ZookeeperConf form, which Mesos' zookeeper::URL reads alike while neither part holds
a '/' or an '@'; a URL outside that common form is refused, see ZK_URL). With one the client
authenticates with ZooKeeper's digest scheme and creates every node for its creator only, as
Marathon does (CREATOR_ALL_ACL), or also world-readable, as Mesos does (EVERYONE_READ_CREATOR_ALL),
so that agents and Marathon find the leading master without credentials. Without one every node
is world-open (OPEN_ACL_UNSAFE), as in both. No URL is logged with its password (redacted()).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.parse

MEMBER_PREFIX = "member_"


# One credential before the hosts, in the form both read alike: Marathon's ZkUrlPattern takes no '@'
# in the password, and Mesos' zookeeper::URL ends the hosts at the first '/'. No other '@', so that
# a credential never passes for hosts or a path.
ZK_URL = re.compile(r"zk://(?:(?P<credential>[^/:@]+:[^/@]+)@)?(?P<hosts>[^/@]*)(?P<path>/[^@]*)?")


def _split_zk_url(url: str) -> tuple[str | None, str, str]:
    """zk://[user:pass@]hosts/path -> (credential or None, hosts, path as given)."""
    if not url.startswith("zk://"):
        raise ValueError(f"not a zk:// URL: {redacted(url)}")
    match = ZK_URL.fullmatch(url)
    if not match:
        raise ValueError(
            "a zk:// URL takes one credential, user:password@ before the hosts, "
            f"with no '/' or '@' in either (and no ':' in the user): {redacted(url)}"
        )
    return match["credential"], match["hosts"], match["path"] or ""


def parse_zk_url(url: str) -> tuple[str, str]:
    """zk://[user:pass@]h1:2181,h2:2181/standin -> ("h1:2181,h2:2181", "/standin"), the credential left out."""
    _, hosts, path = _split_zk_url(url)
    return hosts, "/" + path.strip("/") if path.strip("/") else "/standin"


def zk_credential(url: str) -> str | None:
    """The user:password of zk://user:password@hosts/path, or None."""
    return _split_zk_url(url)[0]


def redacted(url: str) -> str:
    """A master or ZooKeeper URL fit for logs and answers: what precedes the last '@' hidden, as
    Marathon's ZkUrl hides a credential (a malformed one is hidden too)."""
    if not url.startswith("zk://") or "@" not in url:
        return url
    return "zk://xxxxxxxx:xxxxxxxx@" + url.rpartition("@")[2]


class Store:
    """Interface: documents are JSON-serialisable dicts addressed by kind and key."""

    def get(self, kind: str, key: str) -> dict | None:
        raise NotImplementedError

    def put(self, kind: str, key: str, value: dict) -> None:
        raise NotImplementedError

    def delete(self, kind: str, key: str) -> None:
        raise NotImplementedError

    def items(self, kind: str) -> dict[str, dict]:
        raise NotImplementedError

    def join_election(self, member: dict) -> None:
        """Become a candidate for leadership, described by `member` (addresses, hostname)."""
        raise NotImplementedError

    def leader(self) -> dict | None:
        """The current leader's member document, or None while there is none."""
        raise NotImplementedError

    def is_leader(self) -> bool:
        raise NotImplementedError

    def abdicate(self) -> None:
        """Stand again, behind every other candidate: the next one leads (the only one leads again)."""
        raise NotImplementedError

    def close(self) -> None:
        """Leave the election and release the connection."""


class MemoryStore(Store):
    """A dict; the only candidate is always the leader."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._member: dict | None = None

    def get(self, kind: str, key: str) -> dict | None:
        with self._lock:
            raw = self._data.get(kind, {}).get(key)
        return json.loads(raw) if raw is not None else None

    def put(self, kind: str, key: str, value: dict) -> None:
        # Serialised like the ZooKeeper store, so tests catch values that would not persist.
        raw = json.dumps(value)
        with self._lock:
            self._data.setdefault(kind, {})[key] = raw

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._data.get(kind, {}).pop(key, None)

    def items(self, kind: str) -> dict[str, dict]:
        with self._lock:
            return {k: json.loads(v) for k, v in self._data.get(kind, {}).items()}

    def join_election(self, member: dict) -> None:
        self._member = member

    def leader(self) -> dict | None:
        return self._member

    def is_leader(self) -> bool:
        return self._member is not None

    def abdicate(self) -> None:
        pass  # the only candidate

    def close(self) -> None:
        self._member = None


class ZooKeeperStore(Store):
    """Documents as znodes <root>/<kind>/<quoted key>; election by ephemeral sequential nodes.

    world_read: with a credential in the URL, let anyone read the nodes created (Mesos' ACL);
    otherwise only their creator may (Marathon's). A reader (create_root False) creates nothing.
    """

    def __init__(self, url: str, timeout: float = 10.0, world_read: bool = False, create_root: bool = True) -> None:
        from kazoo.client import KazooClient  # only the ZooKeeper store needs kazoo
        from kazoo.security import CREATOR_ALL_ACL, READ_ACL_UNSAFE

        hosts, self.root = parse_zk_url(url)
        credential = zk_credential(url)
        acl = (CREATOR_ALL_ACL + (READ_ACL_UNSAFE if world_read else [])) if credential else None
        self.client = KazooClient(
            hosts=hosts,
            timeout=timeout,
            auth_data=[("digest", credential)] if credential else None,
            default_acl=acl,  # None: kazoo's OPEN_ACL_UNSAFE
        )
        self.client.start(timeout=timeout)
        if create_root:
            self.client.ensure_path(self.root)
        self._member_path: str | None = None
        self._member: dict | None = None
        self._lock = threading.Lock()

    def _path(self, kind: str, key: str | None = None) -> str:
        base = f"{self.root}/{kind}"
        return base if key is None else f"{base}/{urllib.parse.quote(key, safe='')}"

    def get(self, kind: str, key: str) -> dict | None:
        from kazoo.exceptions import NoNodeError

        try:
            data, _ = self.client.get(self._path(kind, key))
        except NoNodeError:
            return None
        return json.loads(data.decode())

    def put(self, kind: str, key: str, value: dict) -> None:
        from kazoo.exceptions import NodeExistsError, NoNodeError

        path, data = self._path(kind, key), json.dumps(value).encode()
        try:
            self.client.set(path, data)
        except NoNodeError:
            try:
                self.client.create(path, data, makepath=True)
            except NodeExistsError:
                self.client.set(path, data)

    def delete(self, kind: str, key: str) -> None:
        from kazoo.exceptions import NoNodeError

        with contextlib.suppress(NoNodeError):
            self.client.delete(self._path(kind, key))

    def items(self, kind: str) -> dict[str, dict]:
        from kazoo.exceptions import NoNodeError

        try:
            children = self.client.get_children(self._path(kind))
        except NoNodeError:
            return {}
        out = {}
        for child in children:
            key = urllib.parse.unquote(child)
            value = self.get(kind, key)
            if value is not None:
                out[key] = value
        return out

    def join_election(self, member: dict) -> None:
        with self._lock:
            self._member = member
            self._ensure_member()
        # A new session (after expiry) loses the ephemeral node: stand again.
        self.client.add_listener(self._on_state)

    def _ensure_member(self) -> None:
        if self._member is None:
            return
        if self._member_path and self.client.exists(self._member_path):
            return
        self._member_path = self.client.create(
            f"{self.root}/leader/{MEMBER_PREFIX}",
            json.dumps(self._member).encode(),
            ephemeral=True,
            sequence=True,
            makepath=True,
        )

    def _on_state(self, state: str) -> None:
        if state == "CONNECTED":
            # Listeners run in kazoo's event thread, which must not block on ZooKeeper calls.
            threading.Thread(target=self._rejoin, daemon=True).start()

    def _rejoin(self) -> None:
        try:
            with self._lock:
                self._ensure_member()
        except Exception:  # retried on the next reconnect; leadership polls meanwhile
            pass

    def _members(self) -> list[str]:
        from kazoo.exceptions import NoNodeError

        try:
            children = self.client.get_children(f"{self.root}/leader")
        except NoNodeError:
            return []
        return sorted(c for c in children if c.startswith(MEMBER_PREFIX))

    def leader(self) -> dict | None:
        from kazoo.exceptions import NoNodeError

        for child in self._members():
            try:
                data, _ = self.client.get(f"{self.root}/leader/{child}")
            except NoNodeError:
                continue  # it left between the listing and the read
            return json.loads(data.decode())
        return None

    def abdicate(self) -> None:
        with self._lock:
            old, self._member_path = self._member_path, None
            self._ensure_member()  # a new sequence number: the last in line
            if old:
                self.client.delete(old)

    def is_leader(self) -> bool:
        if not self._member_path or not self.client.connected:
            return False
        members = self._members()
        return bool(members) and f"{self.root}/leader/{members[0]}" == self._member_path

    def close(self) -> None:
        try:
            self.client.stop()
            self.client.close()
        except Exception:  # closing a dead connection must not mask the caller's error
            pass


def open_store(url: str | None, world_read: bool = False) -> Store:
    """ZooKeeper store for a zk:// URL, else an in-memory one; world_read as ZooKeeperStore's."""
    return ZooKeeperStore(url, world_read=world_read) if url else MemoryStore()


def read_leader(url: str) -> dict | None:
    """The leader's member document, read once (used by agents to find the master)."""
    store = ZooKeeperStore(url, create_root=False)
    try:
        return store.leader()
    finally:
        store.close()


class MesosMasters:
    """Where the leading mesos-master is, as agents and Marathon find it from their --master:
    the leader named in ZooKeeper for zk://..., else every host:port given (non-leaders forward)."""

    def __init__(self, master: str) -> None:
        self.master = master
        self._zk: ZooKeeperStore | None = None

    def addresses(self) -> list[str]:
        if not self.master.startswith("zk://"):
            return [address.removeprefix("http://") for address in self.master.split(",") if address]
        if self._zk is None:
            # Reads only: the masters' nodes are world-readable, with a credential in the URL or not.
            self._zk = ZooKeeperStore(self.master, create_root=False)
        leader = self._zk.leader()
        return [leader["mesos"]] if leader else []

    def close(self) -> None:
        if self._zk is not None:
            self._zk.close()
