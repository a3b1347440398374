"""
LAB ONLY stand-in for gliderlabs/registrator: the Go module proxy reachable from the lab
machines serves no buildable version of it, and no public container registry is reachable.

It does what the platform relies on registrator for, the same way: every published port of
every running container on this node becomes a service in the local Consul agent, named by
the container's SERVICE_NAME (or SERVICE_<port>_NAME) env, tagged by SERVICE_TAGS, addressed
at this node's IP and the host port; it is deregistered when the container dies. A periodic
resync repairs whatever Consul lost. Optional SERVICE_CHECK_HTTP / SERVICE_CHECK_INTERVAL
become a Consul HTTP check, as registrator's consul backend does.

    python3 registrator_standin.py -ip 192.168.33.15 -resync 60 consul://127.0.0.1:8500
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
import time

import docker
import requests

log = logging.getLogger("registrator-standin")
# Docker events after which the set of published ports may differ.
CONTAINER_CHANGES = ("start", "die", "stop", "kill", "destroy", "pause", "unpause")


def container_env(container) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in container.attrs["Config"].get("Env") or [] if "=" in item)
    return dict(pairs)


def services_of(container, ip: str, hostname: str) -> list[dict]:
    """The Consul service definitions registrator would make for a container's published ports."""
    env = container_env(container)
    if env.get("SERVICE_IGNORE"):
        return []
    ports = container.attrs["NetworkSettings"].get("Ports") or {}
    published = [(spec, bindings[0]) for spec, bindings in sorted(ports.items()) if bindings]
    image = container.attrs["Config"]["Image"].split("/")[-1].split(":")[0]
    services = []
    for spec, binding in published:
        exposed = spec.split("/")[0]
        name = env.get(f"SERVICE_{exposed}_NAME") or env.get("SERVICE_NAME") or image
        if len(published) > 1 and not env.get(f"SERVICE_{exposed}_NAME"):
            name = f"{name}-{exposed}"
        tags = [tag for tag in (env.get(f"SERVICE_{exposed}_TAGS") or env.get("SERVICE_TAGS") or "").split(",") if tag]
        service = {
            # registrator's ID scheme: <host>:<container name>:<exposed port>
            "ID": f"{hostname}:{container.name}:{exposed}",
            "Name": name,
            "Tags": tags,
            "Address": ip,
            "Port": int(binding["HostPort"]),
        }
        check_path = env.get(f"SERVICE_{exposed}_CHECK_HTTP") or env.get("SERVICE_CHECK_HTTP")
        if check_path:
            service["Check"] = {
                "HTTP": f"http://{ip}:{binding['HostPort']}{check_path}",
                "Interval": env.get("SERVICE_CHECK_INTERVAL", "10s"),
                "Timeout": env.get("SERVICE_CHECK_TIMEOUT", "5s"),
            }
        services.append(service)
    return services


class Registrator:
    def __init__(self, consul: str, ip: str) -> None:
        self.consul = consul.rstrip("/")
        self.ip = ip
        self.hostname = socket.gethostname().split(".")[0]
        self.docker = docker.from_env()
        self.lock = threading.Lock()

    def _ours(self) -> set[str]:
        registered = requests.get(f"{self.consul}/v1/agent/services", timeout=5).json()
        return {service_id for service_id in registered if service_id.startswith(f"{self.hostname}:")}

    def sync(self) -> None:
        """Register every running container's ports; deregister what no longer runs."""
        with self.lock:
            wanted = {}
            for container in self.docker.containers.list():
                for service in services_of(container, self.ip, self.hostname):
                    wanted[service["ID"]] = service
            for service in wanted.values():
                requests.put(f"{self.consul}/v1/agent/service/register", json=service, timeout=5).raise_for_status()
            for stale in self._ours() - set(wanted):
                # Consul answers 200 even for an unknown id; ids never start with "/".
                requests.put(f"{self.consul}/v1/agent/service/deregister/{stale}", timeout=5).raise_for_status()
                log.info("deregistered %s", stale)

    def resync_every(self, seconds: int) -> None:
        while True:
            time.sleep(seconds)
            self._safe_sync()

    def _safe_sync(self) -> None:
        try:
            self.sync()
        except (requests.RequestException, docker.errors.DockerException) as exc:
            log.warning("sync failed, retrying at the next event or resync: %s", exc)

    def watch(self) -> None:
        self._safe_sync()
        for event in self.docker.events(decode=True, filters={"type": "container"}):
            if (event.get("Action") or event.get("status")) in (
                "start",
                "die",
                "stop",
                "kill",
                "destroy",
                "unpause",
                "pause",
            ):
                self._safe_sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-ip", required=True, help="address to register services with (this node's)")
    parser.add_argument("-resync", type=int, default=60, help="seconds between full resyncs")
    parser.add_argument("registry", help="consul://host:port of the local Consul agent")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    registrator = Registrator(args.registry.replace("consul://", "http://", 1), args.ip)
    threading.Thread(target=registrator.resync_every, args=(args.resync,), daemon=True).start()
    while True:
        try:
            registrator.watch()
        except (requests.RequestException, docker.errors.DockerException) as exc:
            log.warning("event stream lost (%s); reconnecting", exc)
            time.sleep(2)


if __name__ == "__main__":
    main()
