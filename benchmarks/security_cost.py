"""
What the platform's access control costs per request on the running lab (prints numbers;
asserts nothing). Each row compares the same request with and without the protection, or
with and without the part that costs (a TLS handshake, a bcrypt check):

- the app through the VIP over HTTPS: a new TLS connection per request against one kept alive;
- the registry's HTTP Basic check (bcrypt, once per request): a manifest HEAD as `builder`
  against the same HEAD refused without a user (401, no hash computed);
- Consul's ACLs: a catalog read with consul-template's token against an anonymous one;

and what the security states cost in a converge: one highstate dry run (what `cluster.drift`
runs) of a node of each kind, each state's own duration as Salt reports it, the access-control
states (certificates and keys, the CA's trust, Consul's ACLs, the firewall, secret and
credential files, registry users and logins) summed apart from the rest.

Marathon's and Mesos' HTTP Basic are not measured: against the lab's stand-ins a number
would say nothing of the real daemons.

    python benchmarks/security_cost.py [--requests N]

Run from the repository root after `. ./activate`, with the lab up (`make up`). The platform
has no open mode to compare with, so this is the cost of each protection measured where it
is paid, not an open platform timed against a strict one.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import statistics
import sys
import time
from collections.abc import Callable

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "_modules")]  # the lab's driver, the tests' helpers, the app module
from tests.lab.conftest import REGISTRY, app_client, cluster_ca_file, salt, site_secret  # noqa: E402

PLATFORM = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
# The states that exist for access control: TLS keys and certificates, the CA and its trust,
# Consul's ACLs, the firewall, secret-bearing files, registry users and logins.
SECURITY_STATE = re.compile(r"^(x509|consul_acl)_|tls|-ca-|^ca-|firewall|secret|credential|htpasswd|login|acl")
CONVERGE_NODES = ("registry", "mm1", "ms2", "lb1")
MM1 = PLATFORM["nodes"]["mm1"]["ip"]


def median_ms(request: Callable[[], object], count: int) -> float:
    """Median wall time of ``request`` in milliseconds, after one warm-up call."""
    request()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        request()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rows(count: int) -> list[tuple[str, float, float]]:
    builder = ("builder", site_secret("registry_builder_password"))
    # The registry's certificate names registry.<domain>, which this host does not resolve:
    # the same pinned session as the app's, sent to the registry node.
    registry_session = app_client(PLATFORM["nodes"]["registry"]["ip"])
    registry_url = f"https://{REGISTRY['push']}/v2/platform/base/manifests/bookworm"
    kept = app_client()
    consul = f"https://{MM1}:8501/v1/catalog/service/app"
    template_token = {"X-Consul-Token": site_secret("consul_template_token")}
    return [
        (
            "app over HTTPS: new TLS connection vs kept alive",
            median_ms(lambda: app_client().get("https://app-test/health", timeout=5), count),
            median_ms(lambda: kept.get("https://app-test/health", timeout=5), count),
        ),
        (
            "registry manifest HEAD: as builder (bcrypt) vs refused (401)",
            median_ms(lambda: registry_session.head(registry_url, auth=builder, timeout=10), count),
            median_ms(lambda: registry_session.head(registry_url, timeout=10), count),
        ),
        (
            "Consul catalog read: with a token vs anonymous (answered empty)",
            median_ms(lambda: requests.get(consul, headers=template_token, verify=cluster_ca_file(), timeout=5), count),
            median_ms(lambda: requests.get(consul, verify=cluster_ca_file(), timeout=5), count),
        ),
    ]


def converge_rows() -> list[tuple[str, int, float, int, float]]:
    """Per node: states, their seconds, and how many of them (and their seconds) are access control."""
    # queue=True: a scheduled drift check may be running on a node.
    returns = salt("-t", "600", "-L", ",".join(CONVERGE_NODES), "state.apply", "test=True", "queue=True", timeout=900)
    table = []
    for node in CONVERGE_NODES:
        chunks = returns.get(node)
        if not isinstance(chunks, dict):
            raise SystemExit(f"{node} returned no state run: {chunks!r}")
        durations = {key: float(chunk.get("duration") or 0) / 1000 for key, chunk in chunks.items()}
        secure = {key: seconds for key, seconds in durations.items() if SECURITY_STATE.search(key)}
        table.append((node, len(durations), sum(durations.values()), len(secure), sum(secure.values())))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="requests per measurement (default 30)")
    args = parser.parse_args()
    print(f"median of {args.requests} requests each, from the lab host")
    print(f"{'what':62} {'with':>9} {'without':>9} {'cost':>9}")
    for what, protected, open_ in rows(args.requests):
        print(f"{what:62} {protected:7.1f}ms {open_:7.1f}ms {protected - open_:+7.1f}ms")
    print()
    print("one highstate dry run per node (as cluster.drift), each state's own duration")
    print(f"{'node':10} {'states':>7} {'seconds':>8} {'security states':>16} {'their seconds':>14} {'share':>6}")
    for node, count, seconds, secure_count, secure_seconds in converge_rows():
        share = secure_seconds / seconds if seconds else 0.0
        print(f"{node:10} {count:7d} {seconds:8.1f} {secure_count:16d} {secure_seconds:14.1f} {share:6.0%}")


if __name__ == "__main__":
    main()
