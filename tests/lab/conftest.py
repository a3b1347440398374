"""
Tests against the running offline lab (`make up`): real nodes, real services. They talk to
the lab's salt-master through the salt CLI and to the nodes over the lab bridge only.
Run with `make lab-test`; without a running lab they fail and say how to start it.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import apps  # _modules/apps.py: how the runners ask the app, over HTTPS through the VIP
import pytest
import requests
import yaml

from lab.lab import node_exec  # noqa: F401  (the tests' way onto a node)

REPO = pathlib.Path(__file__).resolve().parents[2]
# The salt CLIs of the interpreter running the tests (the project's venv), activated or not.
BIN = pathlib.Path(sys.executable).parent
PLATFORM = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
# The nodes' addresses by name: this host resolves no node names (the nodes' /etc/hosts do).
BY_FQDN = {f"{node}.{PLATFORM['domain']}": spec["ip"] for node, spec in PLATFORM["nodes"].items()}
_LISTENERS = yaml.safe_load((REPO / "pillar" / "components.sls").read_text())["registry"]["listeners"]
# host:port of the registry's listeners: the image builder pushes to one, every node pulls from the other.
REGISTRY = {access: f"registry.{PLATFORM['domain']}:{spec['port']}" for access, spec in _LISTENERS.items()}


def site_secret(key: str) -> str:
    """One value of the lab site's store (.salt/secrets.yaml), which the runners read too."""
    return yaml.safe_load((REPO / ".salt" / "secrets.yaml").read_text())["secrets"][key]["value"]


def marathon_auth() -> tuple[str, str]:
    """The runners' HTTP Basic credentials for Marathon (marathon:http_user, the site's password)."""
    return "platform", site_secret("marathon_http_password")


def mesos_auth() -> tuple[str, str]:
    """The runners' Mesos principal on the masters' endpoints."""
    return "operator", site_secret("mesos_operator_secret")


@functools.cache
def cluster_ca() -> str:
    """The cluster CA's certificate (PEM), read on the node that holds the CA."""
    ca_node = next(node for node, spec in PLATFORM["nodes"].items() if "registry" in spec["roles"])
    pem = node_exec(ca_node, "cat /etc/pki/platform-ca/ca.crt").stdout
    assert "BEGIN CERTIFICATE" in pem, f"no CA certificate on {ca_node}"
    return pem


@functools.cache
def cluster_ca_file() -> str:
    """The cluster CA's certificate in a file, for clients that take a path (requests' verify)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="lab-ca-")) / "ca.crt"
    path.write_text(cluster_ca())
    return str(path)


def app_client(address: str | None = None) -> requests.Session:
    """
    A browser of the app: https://app-<env>/... goes to ``address`` (the VIP by default, as
    app-<env> resolves), with the certificate checked against the cluster CA for that name.
    """
    return apps._session(address or PLATFORM["vip"], cluster_ca())


def app_page(env: str, path: str = "/", address: str | None = None, timeout: float = 2) -> tuple[int, str]:
    """One page of app-<env> over HTTPS, redirects followed (/ sends a visitor to /signin): status and body."""
    with app_client(address) as client:
        answer = client.get(f"https://app-{env}{path}", timeout=timeout)
        return answer.status_code, answer.text


def salt_env() -> dict:
    return dict(os.environ, SALT_MASTER_CONFIG=str(REPO / "master.conf"))


def salt(*args: str, timeout: int = 300) -> dict:
    """`salt <args> --out=json`, merged into one {minion: return} dict.

    A state run waits for one in progress (``queue=True``), as the runners' do: the nodes' scheduled
    drift check may be running, and a test's state run would otherwise fail on it."""
    queue = ["queue=True"] if len(args) > 1 and args[1].startswith("state.") else []
    proc = subprocess.run(
        [str(BIN / "salt"), *args, *queue, "--out=json", "--static"], cwd=REPO, env=salt_env(), capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return json.loads(proc.stdout or "{}")


def salt_run(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "salt-run"), *args, "--out=json", "--out-indent=-1"], cwd=REPO, env=salt_env(), capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip


def wait_for(check: Callable[[], object], timeout: float, interval: float = 0.1) -> float:
    """Seconds until ``check()`` is truthy; fails the test after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true within {timeout}s: {check.__doc__ or check}")
        time.sleep(interval)
    return time.monotonic() - started


@pytest.fixture(scope="session", autouse=True)
def lab_is_up():
    answers = salt("*", "test.ping", timeout=60)
    missing = sorted(set(PLATFORM["nodes"]) - {node for node, ok in answers.items() if ok is True})
    if missing:
        pytest.fail(f"lab nodes not answering: {', '.join(missing)}; start the lab with `make up`")
