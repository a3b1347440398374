"""
ms1 serves /data over NFSv4 with the production nfs formula: /etc/exports, the nfs-server unit,
exportfs. The lab's nfs-kernel-server package (lab/packages) puts NFS-Ganesha, a userspace
server, behind Debian's layout, since the lab kernel has no NFS server. It has no NFS client
either: the agents bind-mount the export's volume (lab site pillar nfs:mount), so the NFS
protocol is tried with libnfs's userspace tools, installed for these tests only and removed
afterwards.
"""

from __future__ import annotations

import shlex
import uuid

import pytest
import yaml

from .conftest import PLATFORM, REPO, node_exec

# The formula's defaults: the lab's pillar overrides none of the values read here.
# root squashed to nobody:nogroup, as the kernel's root_squash.
NOBODY = "65534:65534"
NFS = yaml.safe_load((REPO / "salt" / "nfs" / "defaults.yaml").read_text())["nfs"]
SERVER = next(node for node, spec in PLATFORM["nodes"].items() if "nfs-server" in spec["roles"])
CLIENT = next(node for node, spec in PLATFORM["nodes"].items() if "nfs-client" in spec["roles"])
EXPORT = NFS["export"]
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
    """libnfs-utils (nfs-ls, nfs-cat, nfs-cp) on the client and the server; what it brought is purged afterwards."""
    install = f"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {NFS_CLIENT_PACKAGE} >/dev/null"
    added = {}
    for node in (CLIENT, SERVER):
        before = installed_packages(node)
        on(node, f"{install} || (apt-get update -qq && {install})")
        added[node] = installed_packages(node) - before
    yield
    for node, packages in added.items():
        if packages:
            node_exec(node, f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq {' '.join(sorted(packages))}")


@pytest.fixture
def scratch():
    """A fresh name under <export>/<db_dir>, and a world-writable directory under <export>, removed afterwards."""
    name = f"lab-test-nfs-{uuid.uuid4().hex[:8]}"
    yield name
    node_exec(SERVER, f"rm -rf {EXPORT}/{NFS['db_dir']}/{name} {EXPORT}/{name}")


def test_the_nfs_server_unit_serves_the_export_and_no_nfs_unit_failed():
    site = yaml.safe_load((REPO / ".salt" / "pillar" / "site.sls").read_text())
    installed = on(SERVER, "dpkg-query -W -f '${Version}' nfs-kernel-server").stdout
    assert installed == site["nfs"]["server_version"]
    assert f"http://{PLATFORM['master_ip']}:8089" in on(SERVER, "apt-cache policy nfs-kernel-server").stdout
    on(SERVER, f"systemctl is-active --quiet {NFS['server_service']}")
    exported = on(SERVER, "exportfs -v").stdout.split()
    assert exported[:2] == [EXPORT, f"{PLATFORM['network']}({NFS['export_options']})"]
    for node in (SERVER, CLIENT):
        failed = on(node, "systemctl list-units --failed --no-legend --plain").stdout.split("\n")
        assert [unit for unit in failed if any(word in unit for word in ("nfs", "rpc", "ganesha"))] == [], node


def test_a_client_sees_at_the_export_what_the_server_wrote_there(scratch):
    assert on(CLIENT, f"mountpoint {EXPORT}").returncode == 0
    on(SERVER, f"echo 'written on {SERVER}' > {EXPORT}/{scratch}")
    assert on(CLIENT, f"cat {EXPORT}/{scratch}").stdout == f"written on {SERVER}\n"


def test_a_file_written_on_ms1_is_read_over_nfs_from_another_node(nfs_client_tools, scratch):
    db = f"{EXPORT}/{NFS['db_dir']}"
    on(SERVER, f"echo 'written on {SERVER}' > {db}/{scratch} && chown {NFS['app_uid']}:{NFS['app_gid']} {db}/{scratch}")
    listing = on(CLIENT, f"nfs-ls {url(SERVER, db, APP)}").stdout
    assert scratch in listing
    assert on(CLIENT, f"nfs-cat {url(SERVER, f'{db}/{scratch}', APP)}").stdout == f"written on {SERVER}\n"


def test_the_app_identity_writes_over_nfs_and_ms1_sees_it(nfs_client_tools, scratch):
    db = f"{EXPORT}/{NFS['db_dir']}"
    nfs_cp(CLIENT, f"written over NFS from {CLIENT}", url(SERVER, f"{db}/{scratch}", APP))
    assert on(SERVER, f"stat -c %u:%g {db}/{scratch}").stdout.strip() == f"{NFS['app_uid']}:{NFS['app_gid']}"
    assert on(SERVER, f"cat {db}/{scratch}").stdout == f"written over NFS from {CLIENT}"


def test_root_over_nfs_is_squashed_to_nobody(nfs_client_tools, scratch):
    db = f"{EXPORT}/{NFS['db_dir']}"
    # root cannot read the app's databases (db_mode keeps others out) ...
    denied = node_exec(CLIENT, f"nfs-ls {url(SERVER, db, ROOT)}")
    assert denied.returncode != 0 and "NFS4ERR_ACCESS" in denied.stdout + denied.stderr
    # ... and where anyone may write, what root writes belongs to nobody:nogroup.
    on(SERVER, f"install -d -m 1777 {EXPORT}/{scratch}")
    nfs_cp(CLIENT, "written by root", url(SERVER, f"{EXPORT}/{scratch}/by-root", ROOT))
    owner = on(SERVER, f"stat -c %u:%g {EXPORT}/{scratch}/by-root").stdout.strip()
    assert owner == NOBODY


def test_a_client_outside_the_platform_network_sees_no_export(nfs_client_tools):
    # On ms1 itself over loopback: 127.0.0.1 is outside platform:network.
    refused = node_exec(SERVER, f"nfs-ls {shlex.quote(f'nfs://127.0.0.1{EXPORT}?{APP}')}")
    assert refused.returncode != 0
    assert "NFS4ERR_NOENT" in refused.stdout + refused.stderr
