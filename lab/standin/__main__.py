"""The stand-in's daemons, run by the lab's vendor-layout packages (lab/packages) with vendor flags.

    python3 -m standin mesos-master --zk=zk://192.168.33.11:2181/mesos --quorum=2 --work_dir=/var/lib/mesos ...
    python3 -m standin mesos-agent --master=zk://192.168.33.11:2181/mesos --work_dir=/var/lib/mesos ...
    python3 -m standin marathon --master zk://192.168.33.11:2181/mesos --zk zk://192.168.33.11:2181/marathon
    python3 -m standin exportfs -ra          (the lab's nfs-kernel-server: /etc/exports to NFS-Ganesha)

Flags are read as the vendors' daemons read them (flags.py), environment included, and refused
with their messages and exit codes: 1 for Mesos, 112 for Marathon. So are the files the
authentication flags name (auth.py): a credentials file Mesos cannot read or parse stops it, and so
do ACLs it cannot read or parse (acls.py).
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

from . import acls, auth, exportfs, flags
from .agent import Agent, parse_attributes, parse_resources
from .marathon_server import MarathonServer, libprocess_ip
from .mesos_master import MesosMaster
from .store import open_store, parse_zk_url

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


def check_zk_urls(values: dict[str, Any], *names: str) -> None:
    """Refuse at start a zk:// flag whose credential the daemons would misread (store.py); the
    message is the stand-in's, and names no password."""
    for name in names:
        if (values[name] or "").startswith("zk://"):
            try:
                parse_zk_url(values[name])
            except ValueError as ex:
                raise flags.FlagError(f"--{name}: {ex}") from None


def master_credentials(values: dict[str, Any]) -> dict[str, str] | None:
    """--credentials as the master loads them at start (flags.md §2): readable, parsable, not empty,
    and there when HTTP authentication is on; FlagError with Mesos' message otherwise."""
    try:
        credentials = auth.read_credentials(values["credentials"], "credentials") if values["credentials"] else None
    except auth.CredentialsError as ex:
        raise flags.FlagError(str(ex)) from None
    problem = auth.http_auth_error("mesos-master", values, credentials)
    if problem:
        raise flags.FlagError(problem)
    return credentials


def agent_credentials(values: dict[str, Any]) -> tuple[tuple[str, str] | None, dict[str, str] | None]:
    """The agent's --credential and --http_credentials, checked at start as Mesos' agent checks them."""
    try:
        credential = auth.read_credential(values["credential"]) if values["credential"] else None
        http_credentials = (
            auth.read_credentials(values["http_credentials"], "http_credentials")
            if values["http_credentials"]
            else None
        )
    except auth.CredentialsError as ex:
        raise flags.FlagError(str(ex)) from None
    problem = auth.http_auth_error("mesos-agent", values, http_credentials)
    if problem:
        raise flags.FlagError(problem)
    return credential, http_credentials


def marathon_credential(values: dict[str, Any]) -> tuple[str, str] | None:
    """--mesos_authentication's principal and secret (MarathonSchedulerDriver): the secret file read
    byte for byte, a trailing newline included; no principal, no credential."""
    principal = values["mesos_authentication_principal"]
    if not values["mesos_authentication"] or not principal:
        return None
    secret = values["mesos_authentication_secret"]
    if secret is None and values["mesos_authentication_secret_file"]:
        path = values["mesos_authentication_secret_file"]
        try:
            secret = pathlib.Path(path).read_bytes().decode("utf-8", errors="replace")
        except OSError as ex:
            # Marathon fails creating its driver; the message is the stand-in's.
            raise flags.FlagError(f"Cannot read --mesos_authentication_secret_file {path}: {ex.strerror}") from None
    return principal, secret or ""


def mesos_master(argv: list[str], environ: dict[str, str]) -> MesosMaster:
    values = flags.parse_mesos("mesos-master", flags.MASTER_FLAGS, flags.MASTER_ALIASES, argv, environ)
    # Loaded with the flags, as Mesos loads --acls into its ACLs message.
    master_acls = acls.parse(values["acls"])
    if values["zk"] and values["quorum"] is None:
        raise flags.FlagError("Need to specify --quorum for replicated log based registry when using ZooKeeper")
    if values["work_dir"] is None:
        raise flags.FlagError("--work_dir needed for replicated log based registry")
    check_zk_urls(values, "zk")
    credentials = master_credentials(values)
    pathlib.Path(values["work_dir"]).mkdir(parents=True, exist_ok=True)
    return MesosMaster(
        # Mesos' ACL with a credential in --zk: world-readable, so agents and Marathon find the leader.
        open_store(values["zk"], world_read=True),
        hostname=_hostname(values),
        ip=_ip(values, environ),
        port=values["port"],
        bind_ip="0.0.0.0",
        flags=values,
        credentials=credentials,
        acls=master_acls,
    )


def mesos_agent(argv: list[str], environ: dict[str, str]) -> Agent:
    values = flags.parse_mesos("mesos-agent", flags.AGENT_FLAGS, flags.AGENT_ALIASES, argv, environ)
    problem = systemd_hierarchy_error(values)
    if problem:
        raise flags.FlagError(problem)
    check_zk_urls(values, "master")
    credential, http_credentials = agent_credentials(values)
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
        credential=credential,
        http_credentials=http_credentials,
    )


def marathon(argv: list[str], environ: dict[str, str]) -> MarathonServer:
    values = flags.parse_marathon(argv, environ)
    check_zk_urls(values, "zk", "master")
    mesos_credential = marathon_credential(values)
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
        http_credentials=values["http_credentials"],
        mesos_credential=mesos_credential,
        principal=values["mesos_authentication_principal"],
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
