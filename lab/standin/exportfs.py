"""exportfs for the lab's nfs-kernel-server package: /etc/exports served by NFS-Ganesha.

The lab's kernel has no NFS server, so the package's nfs-server unit runs NFS-Ganesha
(userspace) instead of rpc.nfsd, and this exportfs does what the kernel's does to the kernel's
export table to Ganesha's: it reads /etc/exports (exports(5)), refuses what exportfs refuses,
writes the exports as Ganesha's configuration and has a running Ganesha reload it (SIGHUP: new,
changed and removed exports apply, mounts stay). ``-v`` lists what Ganesha actually exports.

    exportfs -ra     re-export everything in /etc/exports
    exportfs -v      list the exports being served, with their options
    exportfs -au     unexport everything
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field

EXPORTS = pathlib.Path("/etc/exports")
# Where the unit's ganesha.nfsd reads its configuration (the kernel keeps its table in /var/lib/nfs/etab).
GANESHA_CONFIG = pathlib.Path("/var/lib/nfs/ganesha.conf")
UNIT = "nfs-server.service"
NFS_PORT = 2049
# The kernel's anonymous identity for squashed users (nobody:nogroup); Ganesha's own is 4294967294.
NOBODY = 65534

# exports(5) options: those Ganesha has an equivalent for, and those that change nothing here.
# sync/async and wdelay concern when the kernel commits writes; Ganesha commits what NFSv4
# clients ask to be stable, which is what sqlite's fsync asks for.
FLAGS = {
    "rw": ("access", "RW"), "ro": ("access", "RO"),
    "root_squash": ("root_squash", True), "no_root_squash": ("root_squash", False),
    "all_squash": ("all_squash", True), "no_all_squash": ("all_squash", False),
    "secure": ("privileged_port", True), "insecure": ("privileged_port", False),
}  # fmt: skip
IGNORED = {"sync", "async", "wdelay", "no_wdelay", "subtree_check", "no_subtree_check", "hide", "nohide",
           "crossmnt", "no_acl", "acl", "sec=sys", "secure_locks", "insecure_locks"}  # fmt: skip
VALUED = {"anonuid", "anongid", "fsid"}


class ExportsError(Exception):
    """A line exportfs refuses: reported as ``exportfs: /etc/exports:<line>: <why>``."""


@dataclass
class Client:
    spec: str
    options: list[str]
    access: str = "RO"
    root_squash: bool = True
    all_squash: bool = False
    privileged_port: bool = True
    anonuid: int = NOBODY
    anongid: int = NOBODY

    @property
    def squash(self) -> str:
        if self.all_squash:
            return "All_Squash"
        return "Root_Squash" if self.root_squash else "No_Root_Squash"


@dataclass
class Export:
    path: str
    clients: list[Client] = field(default_factory=list)


def _client(spec: str, options: str | None, where: str) -> Client:
    words = [word for word in (options or "").split(",") if word]
    client = Client(spec=spec, options=words or ["ro", "root_squash"])
    for word in words:
        name, _, value = word.partition("=")
        if word in FLAGS:
            attribute, setting = FLAGS[word]
            setattr(client, attribute, setting)
        elif word in IGNORED or name == "sec" and value == "sys":
            continue
        elif name in VALUED and value:
            if not value.isdigit():
                raise ExportsError(f'{where}: bad {name} "{value}": a number')
            if name in ("anonuid", "anongid"):
                setattr(client, name, int(value))
        else:
            raise ExportsError(f'{where}: unknown keyword "{word}"')
    return client


def parse(text: str, source: str = str(EXPORTS)) -> list[Export]:
    exports: dict[str, Export] = {}
    # A trailing backslash continues a line (exports(5)); line numbers are where an entry starts.
    logical, start = "", 0
    lines = [*text.splitlines(), ""]
    for number, line in enumerate(lines, 1):
        if not logical:
            start = number
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        logical += line
        entry, logical = logical.split("#", 1)[0].strip(), ""
        if not entry:
            continue
        where = f"{source}:{start}"
        try:
            words = shlex.split(entry)
        except ValueError as ex:
            raise ExportsError(f"{where}: {ex}") from None
        path, specs = words[0], words[1:]
        if not path.startswith("/"):
            raise ExportsError(f'{where}: the export path "{path}" is not absolute')
        if not specs:
            raise ExportsError(f"{where}: {path} names no client (a client of its own would be exported to the world)")
        export = exports.setdefault(path, Export(path))
        for spec in specs:
            match = re.fullmatch(r"([^()\s]*)(?:\(([^()]*)\))?", spec)
            if not match or not match.group(1):
                raise ExportsError(f'{where}: syntax error in "{spec}"')
            export.clients.append(_client(match.group(1), match.group(2), where))
    return list(exports.values())


def ganesha_config(exports: list[Export]) -> str:
    blocks = [
        "# Written by exportfs (the lab's nfs-kernel-server) from /etc/exports; edit that instead.",
        "NFS_CORE_PARAM {",
        # NFSv4 over TCP only: no mountd, lock manager or quota service to register or reach.
        "    Protocols = 4;",
        f"    NFS_Port = {NFS_PORT};",
        "    Enable_UDP = false;",
        "    Enable_NLM = false;",
        "    Enable_RQUOTA = false;",
        "}",
        # A grace period refuses new opens for 90 s after a start so that clients can reclaim
        # theirs. The lab's only NFS clients are the lab tests' short libnfs sessions: no state
        # to reclaim, and a restarted server would otherwise stall every open for 90 s.
        "NFSv4 {",
        "    Graceless = true;",
        "}",
    ]
    for export_id, export in enumerate(exports, 1):
        blocks += [
            "EXPORT {",
            f"    Export_Id = {export_id};",
            f'    Path = "{export.path}";',
            f'    Pseudo = "{export.path}";',
            "    Protocols = 4;",
            "    Transports = TCP;",
            "    SecType = sys;",
            # Nobody but the clients /etc/exports names.
            "    Access_Type = None;",
            "    FSAL {",
            "        Name = VFS;",
            "    }",
        ]
        for client in export.clients:
            blocks += [
                "    CLIENT {",
                f"        Clients = {client.spec};",
                f"        Access_Type = {client.access};",
                f"        Squash = {client.squash};",
                f"        Anonymous_Uid = {client.anonuid};",
                f"        Anonymous_Gid = {client.anongid};",
                f"        PrivilegedPort = {str(client.privileged_port).lower()};",
                "    }",
            ]
        blocks.append("}")
    return "\n".join(blocks) + "\n"


def _ganesha_pid() -> int:
    proc = subprocess.run(["systemctl", "show", "--property=MainPID", "--value", UNIT],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return int(proc.stdout.strip() or 0)


def served_paths() -> list[str]:
    """What the running Ganesha exports, asked over D-Bus (its export manager)."""
    proc = subprocess.run(
        ["dbus-send", "--system", "--print-reply", "--dest=org.ganesha.nfsd", "/org/ganesha/nfsd/ExportMgr",
         "org.ganesha.nfsd.exportmgr.ShowExports"], capture_output=True, text=True, check=False,
    )  # fmt: skip
    return re.findall(r'string "(/[^"]*)"', proc.stdout)


def export_all(exports: list[Export]) -> None:
    config = ganesha_config(exports)
    if GANESHA_CONFIG.exists() and GANESHA_CONFIG.read_text() == config:
        return
    GANESHA_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    GANESHA_CONFIG.write_text(config)
    pid = _ganesha_pid()
    if pid:
        # Ganesha's reload: exports added, changed and removed apply without dropping mounts.
        os.kill(pid, signal.SIGHUP)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="exportfs", description="the lab's exportfs: /etc/exports to NFS-Ganesha")
    parser.add_argument("-a", action="store_true", help="all exports in /etc/exports")
    parser.add_argument("-r", action="store_true", help="re-export: make what is served match /etc/exports")
    parser.add_argument("-u", action="store_true", help="unexport")
    parser.add_argument("-v", action="store_true", help="list what is exported")
    parser.add_argument("-f", action="store_true", help="flush the kernel's caches (nothing to flush here)")
    args = parser.parse_args(argv)
    try:
        exports = parse(EXPORTS.read_text() if EXPORTS.exists() else "")
    except ExportsError as ex:
        print(f"exportfs: {ex}", file=sys.stderr)
        return 1
    if args.u:
        if not args.a:
            parser.error("-u needs -a here: the lab's exportfs unexports everything or nothing")
        export_all([])
    elif args.r or args.a:
        export_all(exports)
    if args.v or not (args.a or args.r or args.u or args.f):
        served = set(served_paths())
        for export in exports:
            if export.path in served:
                clients = " ".join(f"{client.spec}({','.join(client.options)})" for client in export.clients)
                print(f"{export.path:<16}\t{clients}")
    return 0
