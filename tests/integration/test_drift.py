"""
salt-run cluster.drift against a real master and real minions.

With pillar ``integration:drift`` the nodes' highstate is the ``drift_probe`` state
(tests/integration/files/salt/drift_probe): a managed file on every node and, on a1 only,
a sysvinit service and a Debian package. The minions run as root on this host and share
its /etc/init.d and dpkg, which is why one node manages those; this host has no systemd,
so Salt's ``service`` is ``debian_service`` (``service <name> start|stop|status`` on an
/etc/init.d script). The fixtures put the host back as it was.
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from .conftest import NODES, platform_pillar

DRIFT = {"node": "a1", "service": "platform-drift-probe", "package": "hello"}
INIT_SCRIPT = pathlib.Path("/etc/init.d") / DRIFT["service"]
PID_FILE = pathlib.Path("/run") / f"{DRIFT['service']}.pid"
# The ids and functions of drift_probe/init.sls.
CONFIG = ("drift-probe-config", "file.managed")
SERVICE = ("drift-probe-service", "service.running")
PACKAGE = ("drift-probe-package", "pkg.installed")
APT_ENV = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}


def package_installed() -> bool:
    query = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", DRIFT["package"]], capture_output=True, text=True, check=False
    )
    return query.returncode == 0 and query.stdout.strip() == "install ok installed"


def service_running() -> bool:
    return subprocess.run(["service", DRIFT["service"], "status"], check=False).returncode == 0


@pytest.fixture
def host_probe():
    """The service and package a1 manages on this host: gone again after the test, or put back."""
    package_before = package_installed()
    yield
    if INIT_SCRIPT.exists():
        subprocess.run([str(INIT_SCRIPT), "stop"], check=False)
        INIT_SCRIPT.unlink()
    PID_FILE.unlink(missing_ok=True)
    if package_installed() and not package_before:
        subprocess.run(["dpkg", "--purge", DRIFT["package"]], check=True, env=APT_ENV)
    elif package_before and not package_installed():
        subprocess.run(["apt-get", "install", "-y", DRIFT["package"]], check=True, env=APT_ENV)


@pytest.fixture
def drift_platform(fresh_platform, host_probe):
    pillar = platform_pillar(str(fresh_platform.work_dir))
    pillar["integration"]["drift"] = dict(DRIFT)
    fresh_platform.write_pillar(pillar)
    # top.sls calls topology.nodes: the minions need the module before their first highstate
    # (cluster.up syncs it; this test may run alone).
    sync = fresh_platform.master.salt_cli(timeout=120).run("saltutil.sync_modules", minion_tgt="*")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    return fresh_platform


def drift(platform, *args: str):
    ret = platform.salt_run.run("cluster.drift", *args, "--out=json")
    assert isinstance(ret.data, dict) and "nodes" in ret.data, ret.stdout + ret.stderr
    return ret


def statuses(ret) -> dict[str, str]:
    return {node: verdict["status"] for node, verdict in ret.data["nodes"].items()}


def ids(states: list[dict]) -> list[tuple[str, str]]:
    return sorted((state["id"], state["function"]) for state in states)


def test_a_changed_file_stopped_service_and_removed_package_are_named_on_their_node_then_fixed(drift_platform):
    work_dir = drift_platform.work_dir
    converge = drift(drift_platform, "fix=True")
    assert converge.returncode == 0, converge.data["summary"]
    assert package_installed() and service_running()
    # That a converged platform checks clean is asserted once, after the fix below (a drift
    # run costs tens of seconds here).

    config = work_dir / "drift-a1.conf"
    managed = config.read_text()
    config.write_text(managed + "edited = by hand\n")
    subprocess.run(["service", DRIFT["service"], "stop"], check=True)
    subprocess.run(["dpkg", "--remove", DRIFT["package"]], check=True, env=APT_ENV)
    assert not service_running() and not package_installed()

    ret = drift(drift_platform)
    assert ret.returncode == 2, ret.data["summary"]
    assert statuses(ret) == dict.fromkeys(NODES, "clean") | {"a1": "drifted"}
    a1 = ret.data["nodes"]["a1"]
    assert ids(a1["states"]) == sorted([CONFIG, SERVICE, PACKAGE]), a1["states"]
    assert a1["errors"] == []
    pending = {state["id"]: state for state in a1["states"]}
    assert pending[CONFIG[0]]["name"] == str(config)
    assert "-edited = by hand" in pending[CONFIG[0]]["change"]
    assert pending[SERVICE[0]]["name"] == DRIFT["service"]
    assert pending[PACKAGE[0]]["name"] == DRIFT["package"]
    assert all(state["sls"] == "drift_probe" for state in a1["states"])

    ret = drift(drift_platform, "fix=True")
    assert ret.returncode == 0, ret.data["summary"]
    assert statuses(ret) == dict.fromkeys(NODES, "clean") | {"a1": "fixed"}
    assert ids(ret.data["nodes"]["a1"]["fixed"]) == sorted([CONFIG, SERVICE, PACKAGE])
    assert config.read_text() == managed
    assert service_running()
    assert package_installed()

    ret = drift(drift_platform)
    assert ret.returncode == 0, ret.data["summary"]
    assert statuses(ret) == dict.fromkeys(NODES, "clean")


def test_only_the_targeted_nodes_are_checked_and_fixed(drift_platform):
    work_dir = drift_platform.work_dir
    # Nothing converged yet: each node's managed file is missing.
    ret = drift(drift_platform, "tgt=m*")
    assert ret.returncode == 2, ret.data["summary"]
    assert statuses(ret) == {"m1": "drifted", "m2": "drifted", "m3": "drifted"}
    assert all(ids(verdict["states"]) == [CONFIG] for verdict in ret.data["nodes"].values())

    ret = drift(drift_platform, "tgt=m*", "fix=True")
    assert ret.returncode == 0, ret.data["summary"]
    assert statuses(ret) == {"m1": "fixed", "m2": "fixed", "m3": "fixed"}
    assert sorted(path.name for path in work_dir.glob("drift-*.conf")) == [
        "drift-m1.conf",
        "drift-m2.conf",
        "drift-m3.conf",
    ]
