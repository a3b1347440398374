"""Command line: run a master or an agent stand-in until SIGTERM.

    python3 -m standin master --zk zk://192.168.33.11:2181,192.168.33.12:2181/standin \\
        --hostname mm1.localdomain --ip 192.168.33.11 --marathon-port 8080 --mesos-port 5050
    python3 -m standin agent --zk zk://192.168.33.11:2181/standin --hostname ms1.localdomain \\
        --ip 192.168.33.14 --attributes env:test --port 5051 --resources 'cpus:2;mem:1536;ports:[31000-32000]'
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .agent import Agent, parse_attributes, parse_resources
from .master import Master
from .store import open_store


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="standin", description=__doc__.split("\n")[0])
    parser.add_argument("--log-level", default="INFO")
    roles = parser.add_subparsers(dest="role", required=True)

    master = roles.add_parser("master", help="Marathon v2 API + Mesos master state API + scheduler")
    master.add_argument("--zk", help="zk://host:port,.../path for state and election (none: in memory, one master)")
    master.add_argument("--hostname", required=True)
    master.add_argument("--ip", required=True, help="address the other masters and the agents reach this one at")
    master.add_argument("--bind-ip", default="0.0.0.0")
    master.add_argument("--marathon-port", type=int, default=8080)
    master.add_argument("--mesos-port", type=int, default=5050)

    agent = roles.add_parser("agent", help="Mesos agent /state + tasks on the local Docker engine")
    where = agent.add_mutually_exclusive_group(required=True)
    where.add_argument("--zk", help="zk://... of the masters: register with the leader found there")
    where.add_argument("--master", help="host:port[,host:port] of the masters' Mesos port")
    agent.add_argument("--hostname", required=True)
    agent.add_argument("--ip", required=True)
    agent.add_argument("--bind-ip", default="0.0.0.0")
    agent.add_argument("--port", type=int, default=5051)
    agent.add_argument("--attributes", default="", help="Mesos syntax: env:test;rack:a")
    agent.add_argument("--resources", default="", help="Mesos syntax: cpus:2;mem:1536;ports:[31000-32000]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.role == "master":
        node = Master(
            open_store(args.zk),
            hostname=args.hostname,
            ip=args.ip,
            marathon_port=args.marathon_port,
            mesos_port=args.mesos_port,
            bind_ip=args.bind_ip,
            zk=args.zk,
        )
    else:
        node = Agent(
            ip=args.ip,
            hostname=args.hostname,
            port=args.port,
            attributes=parse_attributes(args.attributes),
            resources=parse_resources(args.resources),
            masters=args.master.split(",") if args.master else None,
            zk=args.zk,
            bind_ip=args.bind_ip,
        )
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    node.start()
    logging.getLogger("standin").info("%s stand-in %s serving", args.role, args.hostname)
    done.wait()
    node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
