"""The stand-in's daemons, run by the lab's vendor-layout packages (lab/packages) with vendor flags.

    python3 -m standin mesos-master --zk=zk://192.168.33.11:2181/mesos --quorum=2 --work_dir=/var/lib/mesos ...
    python3 -m standin mesos-agent --master=zk://192.168.33.11:2181/mesos --work_dir=/var/lib/mesos ...
    python3 -m standin marathon --master zk://192.168.33.11:2181/mesos --zk zk://192.168.33.11:2181/marathon
    python3 -m standin exportfs -ra          (the lab's nfs-kernel-server: /etc/exports to NFS-Ganesha)

Flags are read as the vendors' daemons read them (flags.py), environment included, and refused
with their messages and exit codes: 1 for Mesos, 112 for Marathon.
"""

from __future__ import annotations

import getpass
import logging
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from . import exportfs, flags
from .agent import Agent, parse_attributes, parse_resources
from .marathon_server import MarathonServer, libprocess_ip
from .mesos_master import MesosMaster
from .store import open_store

log = logging.getLogger("standin")

MESOS_EXIT = 1
MARATHON_EXIT = 112


def _hostname(values: dict[str, Any]) -> str:
    return values.get("hostname") or socket.getfqdn()


def _ip(values: dict[str, Any], environ: dict[str, str]) -> str:
    """--ip, else LIBPROCESS_IP, else what the hostname resolves to (libprocess' choice)."""
    return values.get("ip") or libprocess_ip(_hostname(values), environ)


def systemd_hierarchy_error(values: dict[str, Any]) -> str | None:
    """Mesos 1.11's agent start-up check (flags.md §3a): systemd support on, no cgroup v1 systemd hierarchy."""
    if not values["systemd_enable_support"]:
        return None
    try:
        version = subprocess.run(["/sbin/init", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    if not version.startswith("systemd"):
        return None
    hierarchy = pathlib.Path(values["cgroups_hierarchy"]) / "systemd"
    if not os.path.ismount(hierarchy):
        return (
            "Failed to initialize systemd: Failed to locate systemd cgroups hierarchy: "
            f"'{hierarchy}' is not a valid hierarchy"
        )
    return None


def credentials_error(values: dict[str, Any]) -> str | None:
    """The master's start-up checks of --credentials (flags.md §2): HTTP auth needs them, and not empty."""
    http_auth = values["authenticate_http_readonly"] or values["authenticate_http_readwrite"]
    if not values["credentials"]:
        if http_auth:
            return "No credentials provided for the default 'basic' HTTP authenticator"
        return None
    try:
        text = pathlib.Path(values["credentials"]).read_text()
    except OSError as ex:
        return f"Failed to read credentials file '{values['credentials']}': {ex.strerror}"
    if not text.strip():
        return f"Empty credentials file '{values['credentials']}': it must contain at least one credential"
    return None


def mesos_master(argv: list[str], environ: dict[str, str]) -> MesosMaster:
    values = flags.parse_mesos("mesos-master", flags.MASTER_FLAGS, flags.MASTER_ALIASES, argv, environ)
    if values["zk"] and values["quorum"] is None:
        raise flags.FlagError("Need to specify --quorum for replicated log based registry when using ZooKeeper")
    if values["work_dir"] is None:
        raise flags.FlagError("--work_dir needed for replicated log based registry")
    credentials_problem = credentials_error(values)
    if credentials_problem:
        raise flags.FlagError(credentials_problem)
    pathlib.Path(values["work_dir"]).mkdir(parents=True, exist_ok=True)
    return MesosMaster(
        open_store(values["zk"]),
        hostname=_hostname(values),
        ip=_ip(values, environ),
        port=values["port"],
        bind_ip="0.0.0.0",
        flags=values,
    )


def mesos_agent(argv: list[str], environ: dict[str, str]) -> Agent:
    values = flags.parse_mesos("mesos-agent", flags.AGENT_FLAGS, flags.AGENT_ALIASES, argv, environ)
    problem = systemd_hierarchy_error(values)
    if problem:
        raise flags.FlagError(problem)
    pathlib.Path(values["work_dir"]).mkdir(parents=True, exist_ok=True)
    master = values["master"]
    return Agent(
        ip=_ip(values, environ),
        hostname=_hostname(values),
        port=values["port"],
        attributes=parse_attributes(values["attributes"] or ""),
        resources=parse_resources(values["resources"] or ""),
        masters=None if master.startswith("zk://") else master.split(","),
        zk=master if master.startswith("zk://") else None,
        bind_ip="0.0.0.0",
        switch_user=values["switch_user"],
        flags=values,
    )


def marathon(argv: list[str], environ: dict[str, str]) -> MarathonServer:
    values = flags.parse_marathon(argv, environ)
    hostname = values["hostname"] or socket.getfqdn()
    return MarathonServer(
        open_store(values["zk"]),
        hostname=hostname,
        # libprocess' address: where the masters, and the other Marathons, reach this one.
        ip=libprocess_ip(hostname, environ),
        master=values["master"],
        port=values["http_port"],
        bind_ip=values["http_address"] or "0.0.0.0",
        # Marathon's default: the user it runs as (the package's unit runs it as `marathon`).
        mesos_user=values["mesos_user"] or getpass.getuser(),
        zk=values["zk"],
        framework_name=values["framework_name"],
        draining_seconds=values["draining_seconds"] if values["maintenance_mode"] else None,
    )


DAEMONS = {"mesos-master": (mesos_master, MESOS_EXIT), "mesos-agent": (mesos_agent, MESOS_EXIT),
           "marathon": (marathon, MARATHON_EXIT)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["exportfs"]:
        return exportfs.main(argv[1:])
    if not argv or argv[0] not in DAEMONS:
        print(f"usage: python3 -m standin {{{','.join([*DAEMONS, 'exportfs'])}}} [flags]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build, exit_code = DAEMONS[argv[0]]
    try:
        daemon = build(argv[1:], dict(os.environ))
    except flags.FlagError as ex:
        print(ex, file=sys.stderr)
        return exit_code
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    daemon.start()
    log.info("%s (lab stand-in) serving on port %s", argv[0], daemon.port)
    done.wait()
    daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
