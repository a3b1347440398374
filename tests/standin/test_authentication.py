"""The stand-in enforces Mesos' and Marathon's authentication flags, with their answers (shared reference security.md).

Daemons run as threads on loopback, most with an engine that has no containers (no Docker needed);
registrations retry every 0.2 s here instead of every few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import time
import types
import uuid
from collections.abc import Iterator

import pytest
import requests
from standin import agent as agent_module
from standin import marathon_server as marathon_module
from standin.__main__ import marathon_credential
from standin.agent import Agent, parse_resources
from standin.flags import parse_marathon
from standin.marathon_server import MarathonServer
from standin.mesos_master import MesosMaster
from standin.store import MemoryStore, MesosMasters, ZooKeeperStore, parse_zk_url, read_leader, redacted, zk_credential

from .conftest import IMAGE, free_port, wait_until

CREDENTIALS = {"marathon": "framework-secret", "agent": "agent-secret", "operator": "operator-secret"}
OPERATOR = ("operator", "operator-secret")
HTTP_FLAGS = {"authenticate_http_readonly": True, "authenticate_http_readwrite": True}
REGISTRATION_FLAGS = {"authenticate_frameworks": True, "authenticate_agents": True}
MASTER_READONLY = ["/master/state", "/state.json", "/master/state-summary", "/master/slaves", "/master/frameworks",
                   "/master/tasks", "/master/flags", "/metrics/snapshot", "/master/maintenance/status",
                   "/"]  # fmt: skip
NO_CONTAINERS = types.SimpleNamespace(containers=types.SimpleNamespace(list=lambda **_: []))


@pytest.fixture(autouse=True, scope="module")
def quick_registrations() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agent_module, "REGISTER_SECONDS", 0.2)
        patch.setattr(marathon_module, "REGISTER_SECONDS", 0.2)
        yield


def call(port: int, path: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, f"http://127.0.0.1:{port}{path}", timeout=10, **kwargs)


@contextlib.contextmanager
def logged(name: str) -> Iterator[list[str]]:
    """The messages logged at ERROR or WARNING by one logger (the tests run without pytest's logging plugin)."""
    found: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: found.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


class Following(MemoryStore):
    """The store of a non-leader: another daemon leads."""

    def __init__(self, leader: MesosMaster | MarathonServer) -> None:
        super().__init__()
        self.leading_daemon = leader

    def leader(self) -> dict | None:
        return self.leading_daemon.member()

    def is_leader(self) -> bool:
        return False


def start_master(flags: dict, credentials: dict | None = CREDENTIALS, store=None, acls=None) -> MesosMaster:
    return MesosMaster(
        store or MemoryStore(), hostname="mm-auth.localdomain", ip="127.0.0.1", port=free_port(),
        flags=flags, credentials=credentials, acls=acls,
    ).start()  # fmt: skip


def start_agent(master: MesosMaster, credential=None, docker_client=NO_CONTAINERS, **kwargs) -> Agent:
    return Agent(
        ip="127.0.0.1", hostname=f"auth-{uuid.uuid4().hex[:6]}.localdomain", port=0, attributes={"env": "test"},
        resources=parse_resources("cpus:4;mem:4096;ports:[32100-32199]"), masters=[f"127.0.0.1:{master.port}"],
        docker_client=docker_client, credential=credential, **kwargs,
    ).start()  # fmt: skip


def start_marathon(master: MesosMaster, store=None, **kwargs) -> MarathonServer:
    """A Marathon under a framework name of its own, told apart from the others a master remembers."""
    return MarathonServer(
        store or MemoryStore(), hostname="marathon-auth.localdomain", ip="127.0.0.1",
        master=f"127.0.0.1:{master.port}", port=free_port(), framework_name=f"marathon-{uuid.uuid4().hex[:6]}",
        **kwargs,
    ).start()  # fmt: skip


def registered_agents(master: MesosMaster) -> set[str]:
    return {slave["hostname"] for slave in call(master.port, "/master/slaves", auth=OPERATOR).json()["slaves"]}


def frameworks(master: MesosMaster, name: str | None = None) -> list[dict]:
    found = call(master.port, "/master/frameworks", auth=OPERATOR).json()["frameworks"]
    return [framework for framework in found if name in (None, framework["name"])]


def assert_mesos_refusal(answer: requests.Response, realm: str) -> None:
    assert answer.status_code == 401, (answer.request.url, answer.status_code)
    assert answer.headers["WWW-Authenticate"] == f'Basic realm="{realm}"'
    assert answer.text == "401 Unauthorized."  # libprocess' http::Unauthorized body


# ------------------------------------------------------------------ mesos-master HTTP


@pytest.fixture(scope="module")
def http_master() -> Iterator[MesosMaster]:
    master = start_master(HTTP_FLAGS)
    yield master
    master.stop()


def test_the_masters_read_endpoints_want_credentials_of_the_readonly_realm(http_master: MesosMaster) -> None:
    for path in MASTER_READONLY:
        assert_mesos_refusal(call(http_master.port, path), "mesos-master-readonly")
        assert_mesos_refusal(call(http_master.port, path, auth=("operator", "wrong")), "mesos-master-readonly")
        assert_mesos_refusal(call(http_master.port, path, auth=("nobody", "operator-secret")), "mesos-master-readonly")
        assert call(http_master.port, path, auth=OPERATOR).status_code == 200, path
    # Any principal of --credentials will do; a principal-only header or another scheme will not.
    assert call(http_master.port, "/master/state", auth=("agent", "agent-secret")).status_code == 200
    no_secret = call(http_master.port, "/master/state", headers={"Authorization": "Basic b3BlcmF0b3I="})
    assert_mesos_refusal(no_secret, "mesos-master-readonly")
    bearer = call(http_master.port, "/master/state", headers={"Authorization": "Bearer operator-secret"})
    assert_mesos_refusal(bearer, "mesos-master-readonly")
    for path in ("/health", "/master/health", "/version", "/master/version"):
        assert call(http_master.port, path).status_code == 200, path
    assert call(http_master.port, "/master/redirect", allow_redirects=False).status_code == 307


def test_the_masters_write_endpoints_want_credentials_of_the_readwrite_realm(http_master: MesosMaster) -> None:
    # Mesos routes /maintenance/schedule in the readwrite realm, for GET as for POST.
    writes = [("POST", "/master/maintenance/schedule", {"windows": []}), ("POST", "/machine/down", []),
              ("POST", "/master/machine/up", []), ("GET", "/maintenance/schedule", None),
              ("POST", "/master/teardown", None)]  # fmt: skip
    for method, path, body in writes:
        assert_mesos_refusal(call(http_master.port, path, method, json=body), "mesos-master-readwrite")
        wrong = call(http_master.port, path, method, json=body, auth=("operator", "operator-secret\n"))
        assert_mesos_refusal(wrong, "mesos-master-readwrite")
    assert call(http_master.port, "/maintenance/schedule", "POST", json={"windows": []}, auth=OPERATOR).ok
    assert call(http_master.port, "/maintenance/schedule", auth=OPERATOR).json() == {"windows": []}
    # Past authentication, the endpoint's own answer.
    assert call(http_master.port, "/machine/down", "POST", json=[], auth=OPERATOR).status_code == 400


def test_each_realm_has_its_own_flag(daemons) -> None:
    master = daemons.add(start_master({"authenticate_http_readwrite": True}))
    assert call(master.port, "/master/state").status_code == 200
    assert_mesos_refusal(call(master.port, "/maintenance/schedule"), "mesos-master-readwrite")


def test_a_non_leading_master_authenticates_then_forwards_the_credentials(http_master, daemons) -> None:
    # A leader asking for nothing: the follower's refusal is its own. One asking too: a 200 through
    # the follower means the credentials were forwarded.
    for leader in (daemons.add(start_master({})), http_master):
        follower = daemons.add(start_master(HTTP_FLAGS, store=Following(leader)))
        assert not follower.is_leader()
        assert_mesos_refusal(call(follower.port, "/master/state"), "mesos-master-readonly")
        state = call(follower.port, "/master/state", auth=OPERATOR)
        assert state.status_code == 200 and state.json()["pid"] == f"master@127.0.0.1:{leader.port}"


# ------------------------------------------------------------------ registrations


@pytest.fixture(scope="module")
def authenticating() -> Iterator[tuple[MesosMaster, Agent]]:
    """A master requiring authenticated frameworks and agents, and one agent registered with its credential."""
    master = start_master(REGISTRATION_FLAGS)
    agent = start_agent(master, credential=("agent", "agent-secret"))
    try:
        wait_until(lambda: agent.hostname in registered_agents(master), 10, what="the agent registered")
        yield master, agent
    finally:
        agent.stop()
        master.stop()


@pytest.mark.parametrize("credential", [None, ("agent", "wrong"), ("agent", "agent-secret\n")])
def test_an_agent_without_the_right_credential_is_not_registered(authenticating, credential, daemons) -> None:
    master, _ = authenticating
    with logged("standin.agent") as errors:
        refused = daemons.add(start_agent(master, credential=credential))
        wait_until(lambda: errors, 5, what="the refusal logged")
        time.sleep(1)  # five more refused attempts
        assert refused.hostname not in registered_agents(master)
        assert refused.master is None
    (error,) = errors  # once, not at every attempt
    assert "refused the registration" in error


@pytest.mark.parametrize(
    "credential",
    [None, ("marathon", "wrong"), "secret file with a trailing newline"],
    ids=["none", "wrong-secret", "secret-file-newline"],
)
def test_a_framework_without_the_right_credential_gets_no_offers(authenticating, credential, tmp_path, daemons):
    master, _ = authenticating
    if credential == "secret file with a trailing newline":
        secret = tmp_path / "secret"
        secret.write_text("framework-secret\n")  # Marathon sends the newline; the master's secret lacks it
        argv = ["--master", "m:5050", "--mesos_authentication", "--mesos_authentication_principal", "marathon",
                "--mesos_authentication_secret_file", str(secret)]  # fmt: skip
        credential = marathon_credential(parse_marathon(argv, {}))
        assert credential == ("marathon", "framework-secret\n")
    with logged("standin.marathon_server") as errors:
        marathon = daemons.add(start_marathon(master, mesos_credential=credential, principal="marathon"))
        wait_until(lambda: errors, 5, what="the refusal logged")
        app = {"id": "/refused", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16}
        assert call(marathon.port, "/v2/apps", "POST", json=app).status_code == 201
        time.sleep(1)
        assert frameworks(master, marathon.framework_name) == []
        assert marathon.scheduler.agents == {} and marathon.scheduler.tasks == {}
        assert call(marathon.port, "/v2/apps/refused").json()["app"]["tasksStaged"] == 0
    (error,) = errors
    assert "refused the registration" in error


def test_an_authenticated_framework_is_offered_the_agents_with_their_launch_tokens(authenticating, daemons) -> None:
    master, agent = authenticating
    credential = ("marathon", "framework-secret")
    marathon = daemons.add(start_marathon(master, mesos_credential=credential, principal="marathon"))
    wait_until(lambda: agent.id in marathon.scheduler.launch_tokens, 5, what="an offer of the agent")
    assert marathon.scheduler.launch_tokens[agent.id] == agent.launch_token
    (framework,) = frameworks(master, marathon.framework_name)
    assert framework["principal"] == "marathon"
    state = call(master.port, "/master/state").json()
    assert [f["principal"] for f in state["frameworks"] if f["name"] == marathon.framework_name] == ["marathon"]


def test_the_launch_token_is_in_offers_only(authenticating) -> None:
    master, agent = authenticating
    body = {"id": f"{uuid.uuid4()}-0000", "name": "probe", "user": "root", "hostname": "probe", "tasks": []}
    refused = call(master.port, "/standin/frameworks", "POST", json=body)
    assert refused.status_code == 401 and "is not authenticated" in refused.json()["message"]
    offer = call(master.port, "/standin/frameworks", "POST", json=body, auth=("marathon", "framework-secret")).json()
    assert [slave["launch_token"] for slave in offer["slaves"]] == [agent.launch_token]
    for path in ("/master/state", "/master/slaves", "/master/state-summary", "/master/frameworks", "/"):
        assert agent.launch_token not in call(master.port, path).text, path
    assert agent.launch_token not in call(agent.port, "/state").text


def test_credentials_offered_to_a_master_that_requires_none_must_still_be_right(daemons) -> None:
    """Mesos authenticates whoever offers credentials (CRAM-MD5), required or not; without --credentials it cannot."""
    master = daemons.add(start_master({}))
    bare = daemons.add(start_master({}, credentials=None))
    body = {"id": "f-1", "name": "probe", "user": "root", "hostname": "probe", "tasks": []}
    assert call(master.port, "/standin/frameworks", "POST", json=body).ok
    assert "principal" not in frameworks(master)[0]
    wrong = call(master.port, "/standin/frameworks", "POST", json=body, auth=("marathon", "wrong"))
    assert wrong.status_code == 401 and "Invalid credentials" in wrong.json()["message"]
    refused = call(bare.port, "/standin/frameworks", "POST", json=body, auth=("marathon", "framework-secret"))
    assert refused.status_code == 401 and refused.json()["message"] == "No authenticator available"
    mismatch = {**body, "principal": "someone-else"}
    answer = call(master.port, "/standin/frameworks", "POST", json=mismatch, auth=("marathon", "framework-secret"))
    assert answer.status_code == 400 and "does not match authenticated principal 'marathon'" in answer.text


# ------------------------------------------------------------------ mesos-agent


def test_the_agents_task_api_wants_the_launch_token(daemons) -> None:
    master = daemons.add(start_master({}))
    agent = daemons.add(start_agent(master))
    tasks = f"http://127.0.0.1:{agent.port}/standin/tasks"
    refused = [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": f"Basic {agent.launch_token}"}]
    for headers in refused:
        assert requests.get(tasks, headers=headers, timeout=5).status_code == 401
    assert requests.post(tasks, json={"taskId": "x"}, timeout=5).status_code == 401
    assert requests.delete(f"{tasks}/x", timeout=5).status_code == 401
    bearer = {"Authorization": f"Bearer {agent.launch_token}"}
    assert requests.get(tasks, headers=bearer, timeout=5).json() == {"tasks": []}
    assert daemons.add(start_agent(master)).launch_token != agent.launch_token  # one per agent process


def test_the_agents_endpoints_want_its_http_credentials(daemons) -> None:
    master = daemons.add(start_master({}))
    agent = daemons.add(start_agent(master, flags=HTTP_FLAGS, http_credentials={"operator": "operator-secret"}))
    for path in ("/state", "/state.json", "/slave(1)/state", "/flags", "/metrics/snapshot"):
        assert_mesos_refusal(call(agent.port, path), "mesos-agent-readonly")
        assert_mesos_refusal(call(agent.port, path, auth=("operator", "wrong")), "mesos-agent-readonly")
        assert call(agent.port, path, auth=OPERATOR).status_code == 200, path
    assert_mesos_refusal(call(agent.port, "/api/v1", "POST", json={}), "mesos-agent-readwrite")
    assert call(agent.port, "/health").status_code == 200


# ------------------------------------------------------------------ Marathon HTTP


def assert_marathon_refusal(answer: requests.Response) -> None:
    assert answer.status_code == 401, (answer.request.url, answer.status_code)
    # Jetty names the realm after Marathon's login service, which has no name: --http_realm is not used.
    assert answer.headers["WWW-Authenticate"] == 'basic realm="null"'
    assert "X-Marathon-Leader" not in answer.headers


def test_marathon_wants_its_http_credentials_on_every_path_of_every_instance(daemons) -> None:
    master = daemons.add(start_master({}))
    zk = "zk://marathon:zkpw@zk1:2181/marathon"
    leader = daemons.add(start_marathon(master, http_credentials="admin:s3cret", zk=zk))
    follower = daemons.add(start_marathon(master, store=Following(leader), http_credentials="admin:s3cret"))
    for marathon in (leader, follower):
        for path in ("/ping", "/v2/apps", "/v2/info", "/v2/leader", "/", "/v2/events"):
            assert_marathon_refusal(call(marathon.port, path))
            assert_marathon_refusal(call(marathon.port, path, auth=("admin", "wrong")))
        assert call(marathon.port, "/ping", auth=("admin", "s3cret")).text == "pong"
    # The follower forwards the credentials to the leader, which checks them again.
    apps = call(follower.port, "/v2/apps", auth=("admin", "s3cret"))
    assert apps.status_code == 200 and apps.headers["X-Marathon-Via"]
    info = call(leader.port, "/v2/info", auth=("admin", "s3cret")).json()
    assert info["zookeeper_config"]["zk"] == "zk://xxxxxxxx:xxxxxxxx@zk1:2181/marathon"


def test_malformed_http_credentials_leave_marathon_open_as_1_11_does(daemons) -> None:
    master = daemons.add(start_master({}))
    with logged("standin.marathon_server") as errors:
        marathon = daemons.add(start_marathon(master, http_credentials="admin"))  # no ':'
    assert "The HTTP credentials must be specified in the form of 'user:password'." in errors
    assert call(marathon.port, "/v2/apps").status_code == 200
    assert call(marathon.port, "/ping").text == "pong"


def test_everything_authenticated_runs_a_task(docker_client, test_image, daemons) -> None:
    master = daemons.add(start_master({**REGISTRATION_FLAGS, **HTTP_FLAGS}))
    agent = daemons.add(start_agent(master, credential=("agent", "agent-secret"), docker_client=docker_client))
    admin = ("admin", "s3cret")
    marathon = daemons.add(
        start_marathon(master, http_credentials=":".join(admin), mesos_credential=("marathon", "framework-secret"))
    )
    app = {"id": f"/authenticated-{uuid.uuid4().hex[:6]}", "instances": 1, "cpus": 0.1, "mem": 32,
           "container": {"type": "DOCKER", "docker": {"image": IMAGE, "network": "BRIDGE"}}}  # fmt: skip
    try:
        assert call(marathon.port, "/v2/apps", "POST", json=app, auth=admin).status_code == 201

        def running() -> bool:
            tasks = call(marathon.port, f"/v2/apps{app['id']}", auth=admin).json()["app"]["tasks"]
            return [t["state"] for t in tasks] == ["TASK_RUNNING"]

        wait_until(running, 30, what="the task running")
        (framework,) = frameworks(master)
        assert framework["principal"] == "marathon" and framework["tasks"]
    finally:
        marathon.stop()
        for container in docker_client.containers.list(all=True, filters={"label": f"standin.agent-id={agent.id}"}):
            container.remove(force=True)


# ------------------------------------------------------------------ ZooKeeper


def test_a_zk_url_keeps_its_credential_out_of_hosts_and_logs() -> None:
    assert parse_zk_url("zk://marathon:p:w@zk1:2181,zk2:2181/marathon") == ("zk1:2181,zk2:2181", "/marathon")
    assert zk_credential("zk://marathon:p:w@zk1:2181/marathon") == "marathon:p:w"
    assert zk_credential("zk://zk1:2181/marathon") is None
    assert redacted("zk://marathon:pw@zk1:2181/m") == "zk://xxxxxxxx:xxxxxxxx@zk1:2181/m"
    assert redacted("zk://zk1:2181/m") == "zk://zk1:2181/m"
    # Mesos would end the hosts at the '/', Marathon refuse the '@': refused, and not repeated.
    for url in ("zk://marathon:s3/cret@zk1:2181/m", "zk://marathon:s3@cret@zk1:2181/m", "zk://s3cret@zk1:2181/m"):
        with pytest.raises(ValueError) as refused:
            parse_zk_url(url)
        assert "s3" not in str(refused.value)


@pytest.fixture
def zk_paths(zookeeper) -> Iterator[dict[str, str]]:
    """Fresh top-level paths for a Marathon and a Mesos store, removed with their own credentials."""
    suffix = uuid.uuid4().hex[:8]
    paths = {
        "marathon:zk-marathon": f"/standin-auth-{suffix}-marathon",
        "mesos:zk-mesos": f"/standin-auth-{suffix}-mesos",
    }
    yield {credential.split(":")[0]: f"zk://{credential}@{zookeeper}{path}" for credential, path in paths.items()}
    from kazoo.client import KazooClient

    for credential, path in paths.items():
        cleaner = KazooClient(hosts=zookeeper, auth_data=[("digest", credential)])
        cleaner.start(timeout=10)
        with contextlib.suppress(Exception):
            cleaner.delete(path, recursive=True)
        cleaner.stop()
        cleaner.close()


def test_zookeeper_nodes_are_marathons_alone_and_the_masters_leader_readable_by_all(zookeeper, zk_paths, daemons):
    from kazoo.client import KazooClient
    from kazoo.exceptions import NoAuthError

    marathon_store = daemons.add(ZooKeeperStore(zk_paths["marathon"]))
    master = daemons.add(start_master({}, store=ZooKeeperStore(zk_paths["mesos"], world_read=True)))
    anonymous = KazooClient(hosts=zookeeper)
    anonymous.start(timeout=10)
    try:
        marathon_store.put("apps", "/web", {"id": "/web"})
        marathon_root = parse_zk_url(zk_paths["marathon"])[1]
        for read in (anonymous.get, anonymous.get_children):
            with pytest.raises(NoAuthError):
                read(marathon_root)
        with pytest.raises(NoAuthError):
            anonymous.get(f"{marathon_root}/apps/%2Fweb")
        assert marathon_store.get("apps", "/web") == {"id": "/web"}

        wait_until(master.is_leader, 10, what="the master elected")
        mesos_root = parse_zk_url(zk_paths["mesos"])[1]
        (member,) = anonymous.get_children(f"{mesos_root}/leader")
        anonymous.get(f"{mesos_root}/leader/{member}")  # world READ
        with pytest.raises(NoAuthError):
            anonymous.set(f"{mesos_root}/leader/{member}", b"{}")
        # Agents and Marathon find the leader with a credential in --master or without one.
        address = f"127.0.0.1:{master.port}"
        for url in (zk_paths["mesos"], f"zk://{zookeeper}{mesos_root}"):
            masters = daemons.add(MesosMasters(url))
            assert masters.addresses() == [address]
            assert read_leader(url)["mesos"] == address
    finally:
        anonymous.stop()
        anonymous.close()
