"""Who may use the control planes, tried from the lab host: on the platform network, not a node.

Without credentials Marathon and the Mesos masters and agents answer 401, ZooKeeper refuses
Marathon's state (NoAuth) and takes no write under the masters' election; with the runners'
credentials everything answers. The platform is strict in the lab as in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl

import pytest
import requests
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE, Permissions

from .conftest import (
    PLATFORM,
    app_client,
    cluster_ca_file,
    marathon_auth,
    mesos_auth,
    node_exec,
    salt,
    site_secret,
    wait_for,
)

MASTERS = [node for node, spec in sorted(PLATFORM["nodes"].items()) if "mesos-master" in spec["roles"]]
AGENTS = [node for node, spec in sorted(PLATFORM["nodes"].items()) if "mesos-agent" in spec["roles"]]
ZOOKEEPERS = ",".join(f"{PLATFORM['nodes'][node]['ip']}:2181" for node in MASTERS)


def ip(node: str) -> str:
    return PLATFORM["nodes"][node]["ip"]


@pytest.mark.parametrize("node", MASTERS)
@pytest.mark.parametrize("path", ["/ping", "/v2/apps", "/v2/info", "/"])
def test_every_marathon_asks_for_credentials_on_every_path(node, path):
    anonymous = requests.get(f"http://{ip(node)}:8080{path}", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].lower().startswith("basic realm=")
    wrong = requests.get(f"http://{ip(node)}:8080{path}", auth=("platform", "not-the-password"), timeout=5)
    assert wrong.status_code == 401
    assert requests.get(f"http://{ip(node)}:8080{path}", auth=marathon_auth(), timeout=5).status_code == 200


def test_marathon_refuses_an_app_from_anyone_else_and_creates_nothing():
    app = {"id": "/intruder", "cmd": "sleep 600", "cpus": 0.01, "mem": 8, "instances": 1}
    marathon = f"http://{ip('mm2')}:8080"
    assert requests.post(f"{marathon}/v2/apps", json=app, timeout=5).status_code == 401
    listed = requests.get(f"{marathon}/v2/apps", auth=marathon_auth(), timeout=5).json()["apps"]
    assert "/intruder" not in [listed_app["id"] for listed_app in listed]


@pytest.mark.parametrize("node", MASTERS)
def test_mesos_masters_ask_for_a_principal_but_answer_health(node):
    master = f"http://{ip(node)}:5050"
    for path in ("/master/state", "/master/slaves", "/master/frameworks", "/flags", "/maintenance/status"):
        anonymous = requests.get(master + path, timeout=5)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="mesos-master-readonly"', path
    assert requests.get(f"{master}/master/state", auth=("operator", "wrong"), timeout=5).status_code == 401
    assert requests.get(f"{master}/master/state", auth=mesos_auth(), timeout=5).status_code == 200
    assert requests.get(f"{master}/health", timeout=5).status_code == 200


def test_nobody_else_can_take_an_agent_down():
    schedule = {"windows": [{"machine_ids": [{"hostname": f"ms1.{PLATFORM['domain']}", "ip": ip("ms1")}],
                             "unavailability": {"start": {"nanoseconds": 1}}}]}  # fmt: skip
    answer = requests.post(f"http://{ip('mm1')}:5050/maintenance/schedule", json=schedule, timeout=5)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="mesos-master-readwrite"'
    status = requests.get(f"http://{ip('mm1')}:5050/maintenance/status", auth=mesos_auth(), timeout=5).json()
    assert not status.get("draining_machines") and not status.get("down_machines")


def test_marathon_and_every_agent_registered_with_their_principals():
    state = requests.get(f"http://{ip('mm1')}:5050/master/state", auth=mesos_auth(), timeout=5).json()
    assert [(f["name"], f.get("principal")) for f in state["frameworks"] if f.get("active")] == [
        ("marathon", "marathon")
    ]
    assert sorted(agent["hostname"].split(".")[0] for agent in state["slaves"]) == AGENTS


@pytest.mark.parametrize("node", AGENTS)
def test_agents_ask_for_their_principal_and_take_no_task_from_anyone(node):
    agent = f"http://{ip(node)}:5051"
    assert requests.get(f"{agent}/state", timeout=5).status_code == 401
    assert requests.get(f"{agent}/state", auth=mesos_auth(), timeout=5).status_code == 401  # not its principal
    assert requests.get(f"{agent}/state", auth=("agent", site_secret("mesos_agent_secret")), timeout=5).ok
    # The stand-in's own launch endpoint (in place of the master's messages) is no way in either.
    task = {"task_id": "intruder", "image": "platform/base:bookworm", "cmd": "sleep 600"}
    assert requests.post(f"{agent}/standin/tasks", json=task, timeout=5).status_code == 401


def consul_api(node: str) -> str:
    """Consul's API on a node's address: HTTPS only, checked against the cluster CA (verify=cluster_ca_file())."""
    return f"https://{ip(node)}:8501"


def test_consul_does_not_answer_on_the_vip_nor_in_plain_http_on_the_network():
    # Refused, or dropped by the load balancers' firewall (a connect timeout).
    for port in (8500, 8501):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{PLATFORM['vip']}:{port}/v1/status/leader", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{ip('lb1')}:8500/v1/status/leader", timeout=2)
    # The node's address serves the runners over HTTPS; loopback keeps plain HTTP for the node's own clients.
    assert requests.get(f"{consul_api('lb1')}/v1/status/leader", verify=cluster_ca_file(), timeout=5).ok
    assert node_exec("lb1", "curl -sf http://127.0.0.1:8500/v1/status/leader").returncode == 0


def test_consul_rpc_takes_only_tls_with_a_certificate_from_the_cluster_ca():
    """A server shows a CA-signed certificate for server.dc1.consul and refuses a caller without one."""
    context = ssl.create_default_context(cafile=cluster_ca_file())
    with socket.create_connection((ip("mm1"), 8300), timeout=5) as raw:
        raw.sendall(b"\x03")  # Consul's RPC byte for TLS
        with context.wrap_socket(raw, server_hostname="server.dc1.consul") as tls:
            assert tls.getpeercert()["subject"]  # the server's name checked against the CA
            try:
                refused = tls.recv(1) == b""
            except (ssl.SSLError, ConnectionResetError):
                refused = True
    assert refused, "a caller without a client certificate was answered"
    with socket.create_connection((ip("mm1"), 8300), timeout=5) as raw:
        raw.sendall(b"\x00")  # plain RPC, no TLS
        try:
            plain_refused = raw.recv(1) == b""
        except ConnectionResetError:
            plain_refused = True
    assert plain_refused


@pytest.mark.parametrize("node", ["mm1", "ms2", "lb1"])
def test_consul_refuses_anonymous_writes_and_reads(node):
    consul, ca = consul_api(node), cluster_ca_file()
    write = requests.put(f"{consul}/v1/kv/intruder", data=b"taken over", verify=ca, timeout=5)
    assert write.status_code == 403 and "Permission denied" in write.text
    assert requests.get(f"{consul}/v1/kv/intruder", verify=ca, timeout=5).status_code in (403, 404)
    service = {"ID": "intruder", "Name": "app", "Tags": ["production"], "Port": 80}
    assert requests.put(f"{consul}/v1/agent/service/register", json=service, verify=ca, timeout=5).status_code == 403
    # The catalog reads as empty without a token (Consul filters what a caller may not read)
    # and in full with the runners' reader token.
    assert requests.get(f"{consul}/v1/catalog/service/app", verify=ca, timeout=5).json() == []
    assert requests.get(f"{consul}/v1/catalog/nodes", verify=ca, timeout=5).json() == []
    reader = {"X-Consul-Token": site_secret("consul_reader_token")}
    services = requests.get(f"{consul}/v1/catalog/services", headers=reader, verify=ca, timeout=5).json()
    assert "app" in services and "intruder" not in services


@pytest.fixture
def zookeeper():
    client = KazooClient(hosts=ZOOKEEPERS, timeout=10)
    client.start(timeout=15)
    yield client
    client.stop()
    client.close()


def test_zookeeper_keeps_marathon_state_from_anyone_else(zookeeper):
    with pytest.raises(NoAuthError):
        zookeeper.get_children("/marathon")
    with pytest.raises(NoAuthError):
        zookeeper.set("/marathon", b"taken over")


def test_zookeeper_lets_anyone_find_the_mesos_leader_but_not_stand_for_it(zookeeper):
    members = zookeeper.get_children("/mesos")  # world-readable, as Mesos leaves its election
    assert members
    with pytest.raises(NoAuthError):
        zookeeper.create("/mesos/member_", b"{}", ephemeral=True, sequence=True)
    with pytest.raises(NoAuthError):
        zookeeper.delete(f"/mesos/{sorted(members)[0]}")


def _digest(user: str, password: str) -> str:
    return f"{user}:{base64.b64encode(hashlib.sha1(f'{user}:{password}'.encode()).digest()).decode()}"


def test_zookeeper_lets_anyone_read_its_root_but_only_its_admin_create_there(zookeeper):
    with pytest.raises(NoAuthError):
        zookeeper.create("/squatter", b"")
    assert {"mesos", "marathon", "zookeeper"} <= set(zookeeper.get_children("/"))
    # ZooKeeper 3.8 shows a digest id in full only to a client that may administer the znode.
    assert sorted((a.id.scheme, a.id.id, a.perms) for a in zookeeper.get_acls("/")[0]) == [
        ("digest", "platform-admin:x", Permissions.ALL),
        ("world", "anyone", Permissions.READ),
    ]
    password = site_secret("zookeeper_admin_password")
    admin = KazooClient(hosts=ZOOKEEPERS, timeout=10, auth_data=[("digest", f"platform-admin:{password}")])
    admin.start(timeout=15)
    try:
        assert [a.id.id for a in admin.get_acls("/")[0] if a.id.scheme == "digest"] == [
            _digest("platform-admin", password)
        ]
    finally:
        admin.stop()
        admin.close()


def test_an_open_legacy_tree_is_closed_to_all_but_its_owner_and_the_second_run_changes_nothing():
    # A tree as Marathon leaves it without a credential (world: cdrwa), made as the admin.
    admin_password = site_secret("zookeeper_admin_password")
    admin = KazooClient(hosts=ZOOKEEPERS, timeout=10, auth_data=[("digest", f"platform-admin:{admin_password}")])
    owner = KazooClient(hosts=ZOOKEEPERS, timeout=10, auth_data=[("digest", "lab-owner:lab-owner-password")])
    anyone = KazooClient(hosts=ZOOKEEPERS, timeout=10)
    for client in (admin, owner, anyone):
        client.start(timeout=15)
    tree = ["/lab-legacy", "/lab-legacy/state", "/lab-legacy/state/app", "/lab-legacy/leader"]
    try:
        for path in tree:
            admin.create(path, b"kept", acl=OPEN_ACL_UNSAFE)
        wanted = f"digest:{_digest('lab-owner', 'lab-owner-password')}:cdrwa"

        def close() -> dict:
            args = [f"name={tree[0]}", f"acl=[{wanted}]", f"hosts={ZOOKEEPERS}", "user=platform-admin",
                    f"password={admin_password}", "reclaim=True"]  # fmt: skip
            return next(iter(salt("mm1", "state.single", "zookeeper_acl.owned", *args)["mm1"].values()))

        closed = close()
        assert closed["result"] is True, closed["comment"]
        assert closed["changes"]["open znodes below it"] == 3
        for path in tree:
            with pytest.raises(NoAuthError):
                anyone.get(path)
            assert owner.get(path)[0] == b"kept"  # nothing lost
        again = close()
        assert (again["result"], again["changes"]) == (True, {})
    finally:  # the owner may delete below its znode; only the admin at the root
        for path in reversed(tree):
            if (admin if path == tree[0] else owner).exists(path):
                (admin if path == tree[0] else owner).delete(path)
        for client in (admin, owner, anyone):
            client.stop()
            client.close()


def test_zookeeper_speaks_on_the_node_address_only_and_only_srvr():
    def four_letters(word: bytes) -> str:
        with socket.create_connection((ip("mm1"), 2181), timeout=5) as sock:
            sock.sendall(word)
            return sock.makefile().read()

    assert "Mode:" in four_letters(b"srvr")
    assert "is not executed because it is not in the whitelist" in four_letters(b"ruok")
    loopback = node_exec(
        "mm1", "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181' 2>/dev/null && echo open || echo refused"
    )
    assert "refused" in loopback.stdout


@pytest.mark.parametrize("node", ["ms1", "ms3"])
def test_app_tasks_run_without_capabilities_read_only_and_unable_to_gain_privileges(node):
    ids = node_exec(node, "docker ps -q --filter label=standin.app-id").stdout.split()
    assert ids, f"no app task on {node}"
    for container in ids:
        host = json.loads(node_exec(node, f"docker inspect {container}").stdout)[0]["HostConfig"]
        assert host["CapDrop"] == ["ALL"] and host["ReadonlyRootfs"] is True, container
        assert host["SecurityOpt"] == ["no-new-privileges"] and not host["Privileged"], container
        assert list(host["Tmpfs"]) == ["/tmp"], container
        # The only host paths: the environment's own data directory on the shared storage, and
        # its own session key, read-only.
        env = PLATFORM["nodes"][node]["env"]
        binds = [f"/data/{env}:/data/{env}:rw", f"/etc/platform-app/{env}:/run/secrets/notejam:ro"]
        assert sorted(host["Binds"]) == binds, container


def test_the_app_is_served_over_https_only_with_a_certificate_for_its_names():
    for env in PLATFORM["environments"]:
        plain = requests.get(
            f"http://{PLATFORM['vip']}/signin?next=/", headers={"Host": f"app-{env}"}, allow_redirects=False, timeout=5
        )
        assert (plain.status_code, plain.headers["Location"]) == (301, f"https://app-{env}/signin?next=/")
        with app_client() as browser:
            page = browser.get(f"https://app-{env}/signin", timeout=5)
        assert page.status_code == 200 and f"Environment: {env}," in page.text
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
        assert "Secure" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    # The certificate names the app, nothing else: asked as the registry, the check fails.
    with pytest.raises(requests.exceptions.SSLError, match="registry.localdomain"), app_client() as browser:
        browser.get(f"https://registry.{PLATFORM['domain']}/", timeout=5)


def test_the_lbs_keys_never_left_them_and_the_ca_signs_only_their_own_policy():
    for lb in ("lb1", "lb2"):
        key = node_exec(lb, "stat -c '%a %U' /etc/platform-lb/app-tls.key").stdout.split()
        assert key == ["600", "root"]
        assert node_exec(lb, "test -e /etc/pki/platform-ca/ca.key").returncode != 0
    # lb1 asking under lb2's policy is refused by the CA node.
    asked = node_exec(
        "lb1",
        "salt-call --out=json x509.create_certificate ca_server=registry signing_policy=app-tls-lb2 "
        "private_key=/etc/platform-lb/app-tls.key",
    )
    assert asked.returncode != 0
    assert "not permitted to use specified signing policy" in asked.stdout + asked.stderr


def test_sign_in_attempts_are_rate_limited_per_client():
    with app_client() as browser:
        answers = [
            browser.post("https://app-test/signin", data={"email": "x@example.org"}, timeout=5).status_code
            for _ in range(10)
        ]
        assert 429 in answers, answers
        assert browser.get("https://app-test/signin", timeout=5).status_code == 200  # reading the form is free
        # Let the bucket drain (10 a minute) so later tests can sign in: bounded, one POST every 7 s.
        wait_for(
            lambda: browser.post("https://app-test/signin", data={}, timeout=5).status_code != 429,
            timeout=60,
            interval=7,
        )


def test_marathon_shows_no_app_secret_and_each_environments_agents_hold_only_theirs():
    for env in PLATFORM["environments"]:
        app = requests.get(f"http://{ip('mm1')}:8080/v2/apps/app-{env}", auth=marathon_auth(), timeout=5).text
        assert site_secret(f"app_secret_key/{env}") not in app
        assert "NOTEJAM_SECRET_KEY_FILE" in app
    for agent in AGENTS:
        env = PLATFORM["nodes"][agent]["env"]
        # Only its own environment's key, readable by the app's group (nfs:app_gid) and root.
        listing = node_exec(agent, "ls /etc/platform-app; stat -c '%a %g' /etc/platform-app/*/secret_key").stdout
        assert listing.split() == [env, "440", "1000"], listing
        assert node_exec(agent, f"cat /etc/platform-app/{env}/secret_key").stdout.strip() == site_secret(
            f"app_secret_key/{env}"
        )


def test_a_node_talks_only_to_the_master_whose_fingerprint_it_was_given():
    """The same minion (its configuration and accepted key, copied) with the lab's master_finger
    answers; told another fingerprint, it refuses the master."""
    copy = (
        "rm -rf /tmp/finger && mkdir -p /tmp/finger && cp -a /etc/salt/minion.d /tmp/finger/ && "
        "cp -a /etc/salt/pki /tmp/finger/pki && printf 'pki_dir: /tmp/finger/pki/minion\\n' > /tmp/finger/minion"
    )
    assert node_exec("ms2", copy).returncode == 0
    call = "timeout 60 /opt/salt/bin/salt-call -c /tmp/finger test.ping"
    try:
        trusted = node_exec("ms2", call)
        assert trusted.returncode == 0 and "True" in trusted.stdout, trusted.stdout + trusted.stderr
        wrong = ":".join(["00"] * 32)
        node_exec(
            "ms2", f"sed -i \"s/^master_finger: .*/master_finger: '{wrong}'/\" /tmp/finger/minion.d/master_finger.conf"
        )
        refused = node_exec("ms2", call)
        assert refused.returncode != 0 and "fingerprint" in (refused.stdout + refused.stderr).lower()
    finally:
        node_exec("ms2", "rm -rf /tmp/finger")


def _reaches(address: str, port: int) -> bool:
    """One TCP connection from the lab host (a port the node does not serve is refused to the platform network)."""
    try:
        socket.create_connection((address, port), timeout=2).close()
        return True
    except OSError:
        return False


def test_a_node_drops_what_its_roles_do_not_serve_and_a_hand_made_opening_is_drift():
    """ms2 (an agent) serves 5051 to the platform network; a listener on 9999 answers on the node only."""
    node, address, port = "ms2", ip("ms2"), 9999
    node_exec(node, f"timeout 60 python3 -m http.server {port} --bind {address} >/dev/null 2>&1 &")
    local = f"curl -s -o /dev/null -w '%{{http_code}}' http://{address}:{port}/"
    wait_for(lambda: node_exec(node, local).stdout == "200", timeout=15)
    assert not _reaches(address, port)
    assert _reaches(address, 5051)
    # A rule added by hand is drift, and the highstate takes it away again.
    table = "inet platform_firewall"
    assert node_exec(node, f"nft insert rule {table} input tcp dport {port} accept").returncode == 0
    assert _reaches(address, port)
    dry = salt(node, "state.apply", "firewall", "test=True")[node]
    pending = [chunk["__id__"] for chunk in dry.values() if chunk["result"] is None]
    assert pending == ["firewall-rules-loaded"]
    applied = salt(node, "state.apply", "firewall")[node]
    assert all(chunk["result"] for chunk in applied.values())
    assert not _reaches(address, port)
    assert node_exec(node, f"pkill -f 'http.server {port}'").returncode == 0


def test_an_app_tasks_host_port_is_reached_by_the_load_balancers_only():
    """Docker publishes each instance on a host port of its agent (forwarded to the container):
    nginx reaches it, the lab host and another agent, both on the platform network, are refused."""
    published = re.compile(r":(3[01]\d{3})->")
    found = {agent: published.findall(node_exec(agent, "docker ps --format '{{.Ports}}'").stdout) for agent in AGENTS}
    agent, ports = next((agent, ports) for agent, ports in sorted(found.items()) if ports)
    address, port = ip(agent), int(ports[0])
    status = f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{address}:{port}/"
    assert node_exec("lb1", status).stdout in ("200", "302")
    assert not _reaches(address, port)
    other = next(node for node in AGENTS if node != agent)
    assert node_exec(other, status).stdout == "000"


def test_vrrp_and_the_zookeeper_quorum_are_open_to_peers_only():
    rules = node_exec("lb1", "nft list table inet platform_firewall").stdout
    assert f"ip saddr {{ {ip('lb1')}, {ip('lb2')} }} ip protocol vrrp accept" in rules
    assert _reaches(ip("mm1"), 2181)  # ZooKeeper's clients: the platform network
    assert not _reaches(ip("mm1"), 3888)  # its election port: the other ZooKeepers only
    peer = f"timeout 3 bash -c 'exec 3<>/dev/tcp/{ip('mm1')}/3888' && echo open"
    assert node_exec("mm2", peer).stdout.strip() == "open"


def test_each_node_has_its_own_consul_token_which_writes_no_other_node():
    """lb1's agent token may not re-register ms3 (a test agent posing as production, or the reverse)."""
    ca = cluster_ca_file()
    ms3 = {"Node": "ms3", "Address": ip("ms3"), "NodeMeta": {"env": "production"}}
    own = {"X-Consul-Token": site_secret("consul_agent_token/lb1")}
    answer = requests.put(f"{consul_api('lb1')}/v1/catalog/register", json=ms3, headers=own, verify=ca, timeout=5)
    assert answer.status_code == 403 and "Permission denied" in answer.text
    master = {"X-Consul-Token": site_secret("consul_master_token")}
    tokens = requests.get(f"{consul_api('mm1')}/v1/acl/tokens", headers=master, verify=ca, timeout=5).json()
    by_description = {token.get("Description"): token for token in tokens}
    assert "agent_token" not in by_description  # the token every node once shared is gone
    for node in PLATFORM["nodes"]:
        identities = by_description[f"agent token of {node}"]["NodeIdentities"]
        assert [identity["NodeName"] for identity in identities] == [node]
