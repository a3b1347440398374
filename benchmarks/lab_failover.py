"""
Measure how fast the running lab reacts to failures (prints numbers; asserts nothing):

- a published container dies on ms2 → its Consul entry is gone → nginx on lb1 stops routing to it;
- lb1's load balancer stops → the VIP answers again from lb2.

    python benchmarks/lab_failover.py [--rounds N]

Run from the repository root after `. ./activate`, with the lab up (`make up`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import ssl
import statistics
import sys
import time
import urllib.request

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "_modules")]  # the lab's driver, the tests' helpers, the app module
from lab.lab import node_exec  # noqa: E402
from tests.lab.conftest import app_page, cluster_ca_file, site_secret  # noqa: E402  (HTTPS through the VIP, the cluster CA checked)

PLATFORM = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
CONSUL = f"https://{PLATFORM['nodes']['mm1']['ip']}:8501"
LB1 = PLATFORM["nodes"]["lb1"]["ip"]
ECHO_DOCKERFILE = (
    "FROM registry.localdomain:5001/platform/base:bookworm\\n"  # the pull listener, as ms2 pulls
    "RUN apt-get update -qq && apt-get install -y -qq busybox >/dev/null && mkdir /www\\n"
    'CMD ["sh", "-c", "hostname > /www/index.html && exec busybox httpd -f -p 80 -h /www"]\\n'
)


def app_text(env: str, address: str | None = None) -> str:
    """app-<env>'s front page over HTTPS through ``address`` (the VIP by default); "" if none answers."""
    try:
        return app_page(env, address=address, timeout=0.5)[1]
    except (OSError, requests.RequestException):
        return ""


def until(check, timeout: float = 30) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            return float("nan")
        time.sleep(0.05)
    return time.monotonic() - started


def container_death() -> tuple[float, float]:
    """Seconds from `docker kill` until the instance is gone from Consul, and from nginx."""
    node_exec("ms2", f"mkdir -p /tmp/echo && printf '{ECHO_DOCKERFILE}' > /tmp/echo/Dockerfile && "
                     "docker build -q -t lab-echo /tmp/echo >/dev/null")  # fmt: skip
    node_exec("ms2", "docker rm -f bench-echo; docker run -d --name bench-echo -p 80 "
                     "-e SERVICE_NAME=app -e SERVICE_TAGS=test lab-echo")  # fmt: skip
    hostname = node_exec("ms2", "docker inspect -f '{{.Config.Hostname}}' bench-echo").stdout.strip()

    def in_consul() -> bool:
        context = ssl.create_default_context(cafile=cluster_ca_file())
        request = urllib.request.Request(
            f"{CONSUL}/v1/health/service/app?passing", headers={"X-Consul-Token": site_secret("consul_reader_token")}
        )
        with urllib.request.urlopen(request, timeout=2, context=context) as answer:
            return any(entry["Service"]["ID"] == "ms2:bench-echo:80" for entry in json.load(answer))

    until(lambda: app_text("test", LB1).strip() == hostname)
    node_exec("ms2", "docker kill bench-echo")
    gone_from_consul = until(lambda: not in_consul())
    gone_from_nginx = until(lambda: "no backend" in app_text("test", LB1))
    node_exec("ms2", "docker rm -f bench-echo")
    # Both measured from the kill: nginx can only follow once Consul has dropped the entry.
    return gone_from_consul, gone_from_consul + gone_from_nginx


def vip_failover() -> float:
    def served_by_lb2() -> bool:
        return PLATFORM["vip"] in node_exec("lb2", "ip -4 addr").stdout and bool(app_text("production"))

    node_exec("lb1", "docker stop platform-lb")
    try:
        return until(served_by_lb2)
    finally:
        node_exec("lb1", "docker start platform-lb")
        until(lambda: PLATFORM["vip"] in node_exec("lb1", "ip -4 addr").stdout, timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    deaths = [container_death() for _ in range(args.rounds)]
    failovers = [vip_failover() for _ in range(args.rounds)]
    print(f"container death -> gone from Consul:  median {statistics.median(d[0] for d in deaths):.2f} s"
          f"  ({', '.join(f'{d[0]:.2f}' for d in deaths)})")  # fmt: skip
    print(f"container death -> gone from nginx:   median {statistics.median(d[1] for d in deaths):.2f} s"
          f"  ({', '.join(f'{d[1]:.2f}' for d in deaths)})")  # fmt: skip
    print(f"lb1 down -> VIP answers from lb2:     median {statistics.median(failovers):.2f} s"
          f"  ({', '.join(f'{f:.2f}' for f in failovers)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
