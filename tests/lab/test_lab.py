"""The platform on the lab's real nodes: convergence, and the services answering as designed."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from email.message import Message

import pytest
import requests

from .conftest import (
    PLATFORM,
    REGISTRY,
    app_page,
    cluster_ca,
    cluster_ca_file,
    mesos_auth,
    node_exec,
    salt_run,
    site_secret,
    wait_for,
)

CONSUL = f"https://{PLATFORM['nodes']['mm1']['ip']}:8501"
MASTERS = [node for node, spec in PLATFORM["nodes"].items() if "mesos-master" in spec["roles"]]


def http(url: str, host: str | None = None, timeout: float = 2, auth: tuple[str, str] | None = None) -> tuple[int, str]:
    headers = {"Host": host} if host else {}
    if url.startswith(CONSUL):
        headers["X-Consul-Token"] = site_secret("consul_reader_token")
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    request = urllib.request.Request(url, headers=headers)
    # HTTPS (Consul's API on a node's address) is checked against the cluster CA.
    context = ssl.create_default_context(cafile=cluster_ca_file()) if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def consul_passing(service: str) -> list[dict]:
    return json.loads(http(f"{CONSUL}/v1/health/service/{service}?passing")[1])


def test_a_second_cluster_up_changes_nothing():
    """`make up` ran the first cluster.up (converged, verified, deployed); this is the second."""
    second = salt_run("cluster.up")
    assert second.returncode == 0, second.stdout[-3000:]
    result = json.loads(second.stdout.strip().splitlines()[-1])
    changed = {step["step"]: step["changed"] for step in result["steps"] if any(step["changed"].values())}
    assert changed == {}


def test_consul_has_a_leader_and_every_node_alive():
    assert http(f"{CONSUL}/v1/status/leader")[1].strip('"')
    members = json.loads(http(f"{CONSUL}/v1/agent/members")[1])
    assert sorted(member["Name"] for member in members if member["Status"] == 1) == sorted(PLATFORM["nodes"])


def test_zookeeper_has_a_quorum():
    modes = {}
    for node in MASTERS:
        ip = PLATFORM["nodes"][node]["ip"]
        reply = node_exec(node, f"exec 3<>/dev/tcp/{ip}/2181; printf srvr >&3; cat <&3")
        modes[node] = next(line.split(": ")[1] for line in reply.stdout.splitlines() if line.startswith("Mode"))
    assert sorted(modes.values()) == ["follower", "follower", "leader"]


def registry_request(
    access: str, path: str, auth: tuple[str, str] | None = None, method: str = "GET"
) -> tuple[int, Message]:
    """One request to a listener of the registry (push or pull), over TLS with the cluster CA."""
    registry = next(spec for spec in PLATFORM["nodes"].values() if "registry" in spec["roles"])
    context = ssl.create_default_context(cadata=cluster_ca())
    context.check_hostname = False  # the certificate names registry.localdomain, we dial the IP
    headers = {"Authorization": "Basic " + base64.b64encode(":".join(auth).encode()).decode()} if auth else {}
    port = REGISTRY[access].rsplit(":", 1)[1]
    request = urllib.request.Request(f"https://{registry['ip']}:{port}{path}", headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as answer:
            return answer.status, answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers  # case-insensitive, as HTTP header names are


@pytest.mark.parametrize("access", ["push", "pull"])
def test_registry_serves_tls_with_the_cluster_ca_and_refuses_plain_http(access):
    # Nobody lists, pulls or pushes without a user: 401 and a Basic challenge.
    for path in ("/v2/", "/v2/_catalog", "/v2/platform/app/tags/list"):
        status, headers = registry_request(access, path)
        assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="platform-registry"', path
    registry = next(spec for spec in PLATFORM["nodes"].values() if "registry" in spec["roles"])
    status, body = http(f"http://{registry['ip']}:{REGISTRY[access].rsplit(':', 1)[1]}/v2/")
    assert status == 400 and "HTTP request to an HTTPS server" in body


def test_the_pull_user_reads_only_the_pull_listener_and_cannot_write_there():
    pull = ("pull", site_secret("registry_pull_password"))
    builder = ("builder", site_secret("registry_builder_password"))
    assert registry_request("pull", "/v2/", ("pull", "wrong"))[0] == 401
    assert registry_request("pull", "/v2/_catalog", pull)[0] == 200
    assert registry_request("pull", "/v2/platform/base/tags/list", pull)[0] == 200
    # Each listener knows only its own user: the pull user is refused where pushes go.
    assert registry_request("push", "/v2/_catalog", pull)[0] == 401
    assert registry_request("pull", "/v2/_catalog", builder)[0] == 401
    assert registry_request("push", "/v2/_catalog", builder)[0] == 200
    # Starting an upload (the first step of every push) is a write: the pull listener refuses it.
    status, _ = registry_request("pull", "/v2/platform/app/blobs/uploads/", pull, method="POST")
    assert status == 405
    # Docker itself, as a node that only pulls: pushing a tag of a pulled image fails.
    image = f"{REGISTRY['pull']}/platform/base:bookworm"
    push = node_exec("ms3", f"docker pull -q {image} && docker tag {image} {REGISTRY['pull']}/platform/lab-push:x "
                            f"&& docker push {REGISTRY['pull']}/platform/lab-push:x")  # fmt: skip
    assert (
        push.returncode != 0
        and "lab-push"
        not in node_exec("registry", "ls /var/lib/docker-registry/docker/registry/v2/repositories/platform").stdout
    )


def test_the_registry_node_holds_only_hashes_and_clients_only_their_own_user():
    htpasswd = {
        access: node_exec("registry", f"cat /etc/docker/registry/{name}").stdout
        for access, name in (("push", "htpasswd"), ("pull", "htpasswd-readonly"))
    }
    users = {access: sorted(line.split(":")[0] for line in text.split()) for access, text in htpasswd.items()}
    assert users == {"push": ["builder"], "pull": ["pull"]}
    for text in htpasswd.values():
        assert all(line.split(":", 1)[1].startswith("$2") for line in text.split())  # bcrypt
        for secret in ("registry_builder_password", "registry_pull_password"):
            assert site_secret(secret) not in text

    def registry_login(node: str) -> tuple[str, str]:
        ((address, entry),) = json.loads(node_exec(node, "cat /root/.docker/config.json").stdout)["auths"].items()
        return address, base64.b64decode(entry["auth"]).decode().split(":", 1)[0]

    logins = {node: registry_login(node) for node in ("registry", "ms3", "lb1")}
    assert logins == {
        "registry": (REGISTRY["push"], "builder"),
        "ms3": (REGISTRY["pull"], "pull"),
        "lb1": (REGISTRY["pull"], "pull"),
    }


def test_stand_in_reports_four_agents_with_their_environments():
    state = json.loads(http(f"http://{PLATFORM['nodes']['mm1']['ip']}:5050/master/state", auth=mesos_auth())[1])
    agents = {agent["hostname"].split(".")[0]: agent["attributes"].get("env") for agent in state["slaves"]}
    expected = {node: spec["env"] for node, spec in PLATFORM["nodes"].items() if "mesos-agent" in spec["roles"]}
    assert agents == expected


@pytest.fixture
def echo_image():
    """A tiny HTTP server image built on ms2 from the platform's base image (busybox httpd)."""
    build = node_exec(
        "ms2",
        "mkdir -p /tmp/echo && printf '%s\\n' "
        "'FROM registry.localdomain:5001/platform/base:bookworm' "
        "'RUN apt-get update -qq && apt-get install -y -qq busybox >/dev/null && mkdir /www' "
        '\'CMD ["sh", "-c", "hostname > /www/index.html && exec busybox httpd -f -p 80 -h /www"]\' '
        "> /tmp/echo/Dockerfile && docker build -q -t lab-echo /tmp/echo",
    )
    assert build.returncode == 0, build.stderr
    yield "lab-echo"
    node_exec("ms2", "docker rm -f lab-echo-test")


def test_published_container_is_registered_routed_and_removed(echo_image):
    started = node_exec(
        "ms2", "docker run -d --name lab-echo-test -p 80 -e SERVICE_NAME=app -e SERVICE_TAGS=test lab-echo"
    )
    assert started.returncode == 0, started.stderr
    container_host = node_exec("ms2", "docker inspect -f '{{.Config.Hostname}}' lab-echo-test").stdout.strip()

    def registered():
        """the container is a passing app/test entry in Consul"""
        return any(entry["Service"]["ID"] == "ms2:lab-echo-test:80" for entry in consul_passing("app"))

    assert wait_for(registered, timeout=5) <= 5

    def routed():
        """lb1's nginx routes Host: app-test to the container"""
        return app_page("test", address=PLATFORM["nodes"]["lb1"]["ip"])[1].strip() == container_host

    wait_for(routed, timeout=15)
    # Tagged test: never an upstream of app-production (which answers from its own instances).
    production = [app_page("production")[1].strip() for _ in range(10)]
    assert container_host not in production

    node_exec("ms2", "docker kill lab-echo-test")
    assert wait_for(lambda: not registered(), timeout=5) <= 5


def test_a_container_on_a_test_agent_claiming_production_gets_no_production_traffic(echo_image):
    """Routing follows the node's environment (Consul node metadata, set by Salt), not the tag a
    container picks. Beside the claimant runs a test-tagged container: once lb1 routes that one,
    consul-template has rendered a catalog holding both."""

    def start(name: str, tag: str) -> str:
        command = f"docker run -d --name {name} -p 80 -e SERVICE_NAME=app -e SERVICE_TAGS={tag} lab-echo"
        started = node_exec("ms2", command)
        assert started.returncode == 0, started.stderr
        return node_exec("ms2", f"docker inspect -f '{{{{.Config.Hostname}}}}' {name}").stdout.strip()

    try:
        claimant, honest = start("lab-echo-claim", "production"), start("lab-echo-test", "test")
        both = {"ms2:lab-echo-claim:80", "ms2:lab-echo-test:80"}
        wait_for(lambda: both <= {entry["Service"]["ID"] for entry in consul_passing("app")}, timeout=10)
        lb1 = PLATFORM["nodes"]["lb1"]["ip"]
        wait_for(lambda: app_page("test", address=lb1)[1].strip() == honest, timeout=15)
        production = [app_page("production")[1] for _ in range(20)]
        assert all(answer.strip() != claimant for answer in production)
        assert all("Environment: production, Served from:" in answer for answer in production)
    finally:
        node_exec("ms2", "docker rm -f lab-echo-claim lab-echo-test")


def test_stopping_lb1_moves_the_vip_to_lb2_and_the_vip_keeps_answering():
    def holder():
        return [lb for lb in ("lb1", "lb2") if PLATFORM["vip"] in node_exec(lb, "ip -4 addr").stdout]

    def vip_answers():
        """nginx answers app-production through the VIP"""
        try:
            return app_page("production", timeout=0.5)[0] in (200, 503)
        except (OSError, requests.RequestException):
            return False

    assert holder() == ["lb1"]
    assert vip_answers()
    node_exec("lb1", "docker stop platform-lb")
    try:
        # The VIP must come back (served by lb2) within the check's fall time plus a VRRP advert.
        outage = wait_for(lambda: holder() == ["lb2"] and vip_answers(), timeout=10)
        print(f"VIP outage while it moved to lb2: {outage:.1f}s")
    finally:
        node_exec("lb1", "docker start platform-lb")
        wait_for(lambda: holder() == ["lb1"], timeout=30, interval=0.5)
