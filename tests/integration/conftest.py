"""
A real salt-master with five real salt-minions on this machine. Formulas are replaced by a
harmless ``marker`` state (tests/integration/files/salt) that records when each node was
converged, so the orchestration itself (validation, order, stop on failure, exit codes)
is what gets tested; the lab tests converge the real formulas on real nodes.
"""

from __future__ import annotations

import copy
import pathlib
import shutil
import tempfile

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
STATE_TREE = pathlib.Path(__file__).resolve().parent / "files" / "salt"

# Roles as the runner knows them, each converged by the marker state only.
NODES = {
    "reg": {"ip": "192.168.33.19", "roles": ["registry", "image-builder"]},
    "m1": {"ip": "192.168.33.11", "zookeeper_id": 1, "roles": ["zookeeper", "consul-server", "mesos-master"]},
    "m2": {"ip": "192.168.33.12", "zookeeper_id": 2, "roles": ["zookeeper", "consul-server", "mesos-master"]},
    "m3": {"ip": "192.168.33.13", "zookeeper_id": 3, "roles": ["zookeeper", "consul-server", "mesos-master"]},
    "a1": {"ip": "192.168.33.14", "env": "test", "roles": ["mesos-agent", "nfs-server"]},
}
# This host has systemctl but no systemd as PID 1: Salt then loads systemd_service as `service`
# in "offline" mode, where service.running and service.dead do nothing ("Running in OFFLINE
# mode. Nothing to do"), so a stopped service could never show as drift. Without it the
# provider is debian_service: `service <name> start|stop|status` on an /etc/init.d script.
MINION_OVERRIDES = {"disable_modules": ["systemd_service"]}
ROLES = ["registry", "image-builder", "zookeeper", "consul-server", "mesos-master", "mesos-agent", "nfs-server"]


def platform_pillar(log_dir: str) -> dict:
    return {
        "platform": {
            "domain": "localdomain",
            "network": "192.168.33.0/24",
            "vip": "192.168.33.20",
            "environments": ["test"],
            "roles": {role: {"states": [], "components": []} for role in ROLES},
            "nodes": copy.deepcopy(NODES),
        },
        "integration": {"log_dir": log_dir},
        # One site secret, for the ZooKeeper nodes only, through the production ext_pillar.
        "secrets": {
            "ensemble_password": {"pillar": "integration:ensemble_password", "kind": "password", "roles": ["zookeeper"]}
        },
    }


class Platform:
    """Handles for one test: the CLIs, the marker log, and the pillar file to edit."""

    def __init__(self, master, work_dir: pathlib.Path, pillar_file: pathlib.Path):
        self.master = master
        self.work_dir = work_dir
        self.pillar_file = pillar_file
        self.salt_run = master.salt_run_cli(timeout=300)

    def write_pillar(self, pillar: dict) -> None:
        self.pillar_file.write_text(yaml.safe_dump(pillar))

    def applied(self) -> list[tuple[str, str]]:
        """(node, sls) in the order the nodes converged."""
        log = self.work_dir / "applied.log"
        if not log.exists():
            return []
        entries = [line.split() for line in log.read_text().splitlines()]
        return [(node, sls) for node, sls, _ in sorted(entries, key=lambda entry: float(entry[2]))]

    def reset(self) -> None:
        for path in self.work_dir.iterdir():
            path.unlink()


@pytest.fixture(scope="package")
def platform(salt_factories):
    # Short paths: the master's IPC sockets live under root_dir (AF_UNIX limit ~100 chars).
    work_dir = pathlib.Path(tempfile.mkdtemp(prefix="it-", dir="/tmp"))
    pillar_dir = pathlib.Path(tempfile.mkdtemp(prefix="itp-", dir="/tmp"))
    (pillar_dir / "top.sls").write_text("base:\n  '*':\n    - platform\n")
    pillar_file = pillar_dir / "platform.sls"
    pillar_file.write_text(yaml.safe_dump(platform_pillar(str(work_dir))))
    overrides = {
        "file_roots": {"base": [str(STATE_TREE)]},
        "pillar_roots": {"base": [str(pillar_dir)]},
        "runner_dirs": [str(REPO / "_runners")],
        "module_dirs": [str(REPO / "_modules")],
        "outputter_dirs": [str(REPO / "_output")],
        "pillar_dirs": [str(REPO / "_pillar")],
        "utils_dirs": [str(REPO / "_utils")],
        "ext_pillar": [{"site_secrets": {}}],
        "site_secrets_file": str(work_dir / "secrets.yaml"),
        "platform_minion_wait": 60,
    }
    master = salt_factories.salt_master_daemon("it-master", overrides=overrides)
    minions = [master.salt_minion_daemon(node_id, overrides=MINION_OVERRIDES) for node_id in NODES]
    with master.started():
        started = [minion.started() for minion in minions]
        for context in started:
            context.__enter__()
        try:
            yield Platform(master, work_dir, pillar_file)
        finally:
            for context in reversed(started):
                context.__exit__(None, None, None)
    shutil.rmtree(work_dir, ignore_errors=True)
    shutil.rmtree(pillar_dir, ignore_errors=True)


@pytest.fixture
def fresh_platform(platform):
    platform.reset()
    platform.write_pillar(platform_pillar(str(platform.work_dir)))
    # A site whose secrets exist, as after its first cluster.up.
    assert platform.salt_run.run("site.secrets").returncode == 0
    yield platform
    platform.reset()
    platform.write_pillar(platform_pillar(str(platform.work_dir)))
