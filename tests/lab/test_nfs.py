"""
ms1 serves one directory per environment, /data/<env>, over NFSv4 with the production nfs
formula (/etc/exports, the nfs-server unit, exportfs), each to its own environment's agents
only. The lab's nfs-kernel-server package (lab/packages) puts NFS-Ganesha, a userspace server,
behind Debian's layout, since the lab kernel has no NFS server. It has no NFS client either: an
agent bind-mounts its environment's directory of the export's volume (lab site pillar
nfs:mount), so the NFS protocol is tried with libnfs's userspace tools, installed for these
tests only and removed afterwards.
"""

from __future__ import annotations

import shlex
import uuid

import pytest
import yaml

from .conftest import PLATFORM, REPO, node_exec, salt

# The formula's defaults: the lab's pillar overrides none of the values read here.
NFS = yaml.safe_load((REPO / "salt" / "nfs" / "defaults.yaml").read_text())["nfs"]
SERVER = next(node for node, spec in PLATFORM["nodes"].items() if "nfs-server" in spec["roles"])
CLIENTS = {node: spec for node, spec in sorted(PLATFORM["nodes"].items()) if "nfs-client" in spec["roles"]}
# A client of each environment: CLIENT's is ENV, OTHER's is OTHER_ENV.
CLIENT = next(iter(CLIENTS))
ENV = CLIENTS[CLIENT]["env"]
OTHER = next(node for node, spec in CLIENTS.items() if spec["env"] != ENV)
OTHER_ENV = CLIENTS[OTHER]["env"]
EXPORT = NFS["export"]
DATA = f"{EXPORT}/{ENV}"
# NFSv4 only (no rpcbind, no mountd); uid/gid are the AUTH_SYS identity the client claims.
APP = f"version=4&uid={NFS['app_uid']}&gid={NFS['app_gid']}"
ROOT = "version=4&uid=0&gid=0"
NFS_CLIENT_PACKAGE = "libnfs-utils"


def url(node: str, path: str, query: str) -> str:
    return shlex.quote(f"nfs://{PLATFORM['nodes'][node]['ip']}{path}?{query}")


def on(node: str, command: str):
    """The command's result on ``node``; fails the test with its output when it fails."""
    result = node_exec(node, command)
    assert result.returncode == 0, f"{node}: {command}\n{result.stdout}{result.stderr}"
    return result


def nfs_cp(node: str, text: str, target: str):
    """Writes ``text`` to ``target`` (an nfs:// URL) with nfs-cp on ``node``."""
    local = f"/tmp/lab-test-nfs-{uuid.uuid4().hex[:8]}"
    return on(node, f"printf %s {shlex.quote(text)} > {local}; nfs-cp {local} {target}; rc=$?; rm -f {local}; exit $rc")


def installed_packages(node: str) -> set[str]:
    listing = on(node, "dpkg-query -W -f '${db:Status-Status} ${Package}\\n'").stdout
    return {line.split()[1] for line in listing.splitlines() if line.startswith("installed ")}


@pytest.fixture(scope="module")
def nfs_client_tools():
    """libnfs-utils (nfs-ls, nfs-cat, nfs-cp) on a client of each environment and the server; what
    it brought is purged afterwards."""
    install = f"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {NFS_CLIENT_PACKAGE} >/dev/null"
    added = {}
    for node in (CLIENT, OTHER, SERVER):
        before = installed_packages(node)
        on(node, f"{install} || (apt-get update -qq && {install})")
        added[node] = installed_packages(node) - before
    yield
    for node, packages in added.items():
        if packages:
            node_exec(node, f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq {' '.join(sorted(packages))}")


@pytest.fixture
def scratch():
    """A fresh name under ENV's data directory, removed afterwards."""
    name = f"lab-test-nfs-{uuid.uuid4().hex[:8]}"
    yield name
    node_exec(SERVER, f"rm -rf {DATA}/{name} {EXPORT}/{OTHER_ENV}/{name}")


def exported() -> dict[str, list[str]]:
    """``exportfs -v`` on the server: each exported path and the clients it names."""
    table: dict[str, list[str]] = {}
    path = ""
    for line in on(SERVER, "exportfs -v").stdout.splitlines():
        words = line.split()
        if line[:1] not in ("", " ", "\t"):
            path, words = words[0], words[1:]
        table.setdefault(path, []).extend(words)
    return table


def test_each_environment_s_directory_is_exported_to_its_own_agents_only():
    site = yaml.safe_load((REPO / ".salt" / "pillar" / "site.sls").read_text())
    installed = on(SERVER, "dpkg-query -W -f '${Version}' nfs-kernel-server").stdout
    assert installed == site["nfs"]["server_version"]
    assert f"http://{PLATFORM['master_ip']}:8089" in on(SERVER, "apt-cache policy nfs-kernel-server").stdout
    on(SERVER, f"systemctl is-active --quiet {NFS['server_service']}")
    expected = {
        f"{EXPORT}/{env}": [f"{spec['ip']}({NFS['export_options']})" for spec in CLIENTS.values() if spec["env"] == env]
        for env in sorted({spec["env"] for spec in CLIENTS.values()})
    }
    assert exported() == expected
    for node in (SERVER, CLIENT):
        failed = on(node, "systemctl list-units --failed --no-legend --plain").stdout.split("\n")
        assert [unit for unit in failed if any(word in unit for word in ("nfs", "rpc", "ganesha"))] == [], node


def test_a_client_sees_its_environment_s_data_and_not_the_other_s(scratch):
    assert on(CLIENT, f"mountpoint {DATA}").returncode == 0
    on(SERVER, f"echo 'written on {SERVER}' > {DATA}/{scratch}")
    assert on(CLIENT, f"cat {DATA}/{scratch}").stdout == f"written on {SERVER}\n"
    # The other environment's directory is not mounted here, and nothing of it shows.
    on(SERVER, f"echo 'written on {SERVER}' > {EXPORT}/{OTHER_ENV}/{scratch}")
    assert node_exec(CLIENT, f"mountpoint -q {EXPORT}/{OTHER_ENV}").returncode != 0
    assert node_exec(CLIENT, f"test -e {EXPORT}/{OTHER_ENV}/{scratch}").returncode != 0
    assert node_exec(CLIENT, f"mountpoint -q {EXPORT}").returncode != 0


def test_a_file_written_on_the_server_is_read_over_nfs_from_another_node(nfs_client_tools, scratch):
    owner = f"{NFS['app_uid']}:{NFS['app_gid']}"
    on(SERVER, f"echo 'written on {SERVER}' > {DATA}/{scratch} && chown {owner} {DATA}/{scratch}")
    listing = on(CLIENT, f"nfs-ls {url(SERVER, DATA, APP)}").stdout
    assert scratch in listing
    assert on(CLIENT, f"nfs-cat {url(SERVER, f'{DATA}/{scratch}', APP)}").stdout == f"written on {SERVER}\n"


def test_the_app_identity_writes_over_nfs_and_the_server_sees_it(nfs_client_tools, scratch):
    nfs_cp(CLIENT, f"written over NFS from {CLIENT}", url(SERVER, f"{DATA}/{scratch}", APP))
    assert on(SERVER, f"stat -c %u:%g {DATA}/{scratch}").stdout.strip() == f"{NFS['app_uid']}:{NFS['app_gid']}"
    assert on(SERVER, f"cat {DATA}/{scratch}").stdout == f"written over NFS from {CLIENT}"


def test_an_agent_of_another_environment_is_refused_the_export(nfs_client_tools):
    """Even as the app's own identity: the export names the environment's agents, not a user."""
    for node, foreign, own in ((CLIENT, OTHER_ENV, ENV), (OTHER, ENV, OTHER_ENV)):
        refused = node_exec(node, f"nfs-ls {url(SERVER, f'{EXPORT}/{foreign}', APP)}")
        assert refused.returncode != 0, (node, foreign, refused.stdout)
        assert "NFS4ERR" in refused.stdout + refused.stderr, (node, refused.stdout + refused.stderr)
        on(node, f"nfs-ls {url(SERVER, f'{EXPORT}/{own}', APP)}")
    # The share's root is no export at all any more.
    assert node_exec(CLIENT, f"nfs-ls {url(SERVER, EXPORT, APP)} | grep -q {OTHER_ENV}").returncode != 0


def test_root_over_nfs_is_squashed_to_nobody(nfs_client_tools):
    # root on the server reads the data directory; root over NFS is nobody there, whom the
    # directory's mode (data_mode) keeps out, while the app's identity reads it.
    assert on(SERVER, f"ls {DATA}").returncode == 0
    denied = node_exec(CLIENT, f"nfs-ls {url(SERVER, DATA, ROOT)}")
    assert denied.returncode != 0 and "NFS4ERR_ACCESS" in denied.stdout + denied.stderr
    on(CLIENT, f"nfs-ls {url(SERVER, DATA, APP)}")


def test_a_client_outside_the_platform_network_sees_no_export(nfs_client_tools):
    # On the server itself over loopback: 127.0.0.1 is no agent of any environment.
    refused = node_exec(SERVER, f"nfs-ls {shlex.quote(f'nfs://127.0.0.1{DATA}?{APP}')}")
    assert refused.returncode != 0
    assert "NFS4ERR_NOENT" in refused.stdout + refused.stderr


def test_a_database_in_the_shared_directory_of_before_is_linked_into_its_environment_s(scratch):
    """An upgraded site's <export>/<legacy_db_dir>/*-<env>.db: hard-linked, nothing moved, once."""
    legacy = f"{EXPORT}/{NFS['legacy_db_dir']}"
    created = node_exec(SERVER, f"test -d {legacy}").returncode != 0
    name = f"{scratch}-{ENV}.db"
    on(SERVER, f"install -d {legacy} && echo 'notes of before' > {legacy}/{name}"
               f" && chown {NFS['app_uid']}:{NFS['app_gid']} {legacy}/{name}")  # fmt: skip
    try:
        first = salt(SERVER, "state.apply", "nfs.server", timeout=300)[SERVER]
        assert isinstance(first, dict), first
        linked = {v["__id__"]: v for v in first.values() if v["changes"]}
        assert set(linked) == {f"nfs-{ENV}-legacy-data-linked"}, {k: v["comment"] for k, v in linked.items()}
        inodes = on(SERVER, f"stat -c %i {legacy}/{name} {DATA}/{name}").stdout.split()
        assert len(inodes) == 2 and inodes[0] == inodes[1], inodes  # one file, two names
        assert on(SERVER, f"cat {DATA}/{name}").stdout == "notes of before\n"
        again = salt(SERVER, "state.apply", "nfs.server", timeout=300)[SERVER]
        assert [v["__id__"] for v in again.values() if v["changes"] or not v["result"]] == []
    finally:
        node_exec(SERVER, f"rm -f {legacy}/{name} {DATA}/{name}" + (f" && rmdir {legacy}" if created else ""))


def test_a_client_s_whole_share_entry_of_before_goes_and_its_environment_s_mount_stays():
    """An upgraded client's fstab still names the whole share at <export>: the entry goes, once.
    (The lab's bind mounts show their filesystem, not their source, as what is mounted, so the
    live-unmount half of the state is not reached here.)"""
    device = yaml.safe_load((REPO / "lab" / "pillar" / "site.sls").read_text())["nfs"]["mount"]["device"]
    on(CLIENT, f"echo '{device} {EXPORT} none bind 0 0' >> /etc/fstab")
    try:
        first = salt(CLIENT, "state.apply", "nfs.client", timeout=300)[CLIENT]
        assert isinstance(first, dict), first
        changed = {v["__id__"] for v in first.values() if v["changes"]}
        assert changed == {"nfs-whole-share-unmounted"}, {v["__id__"]: v["comment"] for v in first.values()}
        assert f" {EXPORT} " not in on(CLIENT, "cat /etc/fstab").stdout
        on(CLIENT, f"mountpoint -q {DATA}")
        again = salt(CLIENT, "state.apply", "nfs.client", "test=True", timeout=300)[CLIENT]
        assert [v["__id__"] for v in again.values() if v["changes"] or v["result"] is not True] == []
    finally:
        node_exec(CLIENT, f"sed -i '\\#^{device} {EXPORT} #d' /etc/fstab")
