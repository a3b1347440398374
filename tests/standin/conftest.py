"""The Mesos + Marathon stand-in, run for real on loopback: a mesos-master, a Marathon and agents as threads.

Agents share this machine's Docker engine; each labels its containers with its own id, and every
container they start is removed by label when the fixtures end. The app image is built here
(busybox httpd, FROM scratch), since no image can be pulled.
"""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from standin.agent import LABEL_AGENT, Agent, parse_resources  # noqa: E402
from standin.marathon_server import MarathonServer  # noqa: E402
from standin.mesos_master import MesosMaster  # noqa: E402
from standin.store import MemoryStore, Store, ZooKeeperStore  # noqa: E402

# The shared reference sits next to the repository (../shared/reference from its root).
REFERENCE = REPO.parent / "shared" / "reference" / "marathon"
IMAGE = "standin-test-httpd:latest"
IMAGE_LABEL = "standin.test-image"
APP_PORT = 8000
ZK_HOSTPORT = "127.0.0.1:2181"
ZK_SERVER = pathlib.Path("/usr/share/zookeeper/bin/zkServer.sh")

DOCKERFILE = f"""FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
LABEL {IMAGE_LABEL}=true
CMD ["/bin/busybox", "httpd", "-f", "-p", "{APP_PORT}", "-h", "/www"]
"""


def wait_until(check: Callable[[], object], timeout: float, interval: float = 0.25, what: str = "") -> object:
    """check()'s first truthy value within timeout seconds, else fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or check}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daemons(list):
    def add(self, daemon):
        self.append(daemon)
        return daemon


@pytest.fixture
def daemons() -> Iterator[Daemons]:
    """What a test starts, stopped at its end however it ends (a server left running keeps pytest from exiting)."""
    started = Daemons()
    yield started
    for daemon in reversed(started):
        if hasattr(daemon, "stop"):
            daemon.stop()
        else:
            daemon.close()  # a store or a master detector


class MarathonClient:
    """requests against one Marathon's HTTP port."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def __call__(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def app(self, app_id: str) -> dict:
        answer = self("GET", f"/v2/apps{app_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["app"]

    def deployment_ids(self) -> set[str]:
        return {d["id"] for d in self("GET", "/v2/deployments").json()}

    def wait_deployed(self, deployment_id: str, timeout: float = 40) -> None:
        wait_until(lambda: deployment_id not in self.deployment_ids(), timeout, what=f"deployment {deployment_id}")


class Cluster:
    """A mesos-master, a Marathon, and agents whose containers are cleaned up by their agent-id label."""

    def __init__(self, docker_client: object, store: Store, zk: str | None = None) -> None:
        self.docker = docker_client
        self.store = store
        self.zk = zk
        self.marathon_port, self.mesos_port = free_port(), free_port()
        self.mesos = MesosMaster(MemoryStore(), hostname="master-1.localdomain", ip="127.0.0.1", port=self.mesos_port)
        self.master: MarathonServer | None = None
        self.agents: list[Agent] = []

    def start_master(self, store: Store | None = None) -> MarathonServer:
        """(Re)start Marathon; the mesos-master starts once, with the first."""
        if self.mesos._server is None:
            self.mesos.start()
        self.master = MarathonServer(
            store or self.store,
            hostname="master-1.localdomain",
            ip="127.0.0.1",
            master=f"127.0.0.1:{self.mesos_port}",
            port=self.marathon_port,
            zk=self.zk,
        ).start()
        return self.master

    def start_follower(self) -> MarathonServer:
        """A second Marathon on the cluster's ZooKeeper path (the cluster needs one: zk_cluster), not leading."""
        return MarathonServer(
            ZooKeeperStore(self.zk),
            hostname="master-2.localdomain",
            ip="127.0.0.1",
            master=f"127.0.0.1:{self.mesos_port}",
            port=free_port(),
            zk=self.zk,
        ).start()

    def add_agent(self, name: str, env: str, ports: str) -> Agent:
        agent = Agent(
            ip="127.0.0.1",
            hostname=f"{name}-{uuid.uuid4().hex[:6]}.localdomain",
            port=0,
            attributes={"env": env},
            resources=parse_resources(f"cpus:4;mem:4096;ports:{ports}"),
            masters=[f"127.0.0.1:{self.mesos_port}"],
            docker_client=self.docker,
        ).start()
        self.agents.append(agent)
        return agent

    @property
    def api(self) -> MarathonClient:
        return MarathonClient(f"http://127.0.0.1:{self.marathon_port}")

    def wait_agents_active(self, count: int) -> None:
        def active() -> bool:
            state = requests.get(f"http://127.0.0.1:{self.mesos_port}/master/state", timeout=5).json()
            return state["activated_slaves"] == count

        wait_until(active, 20, what=f"{count} active agents")

    def containers(self, **labels: str) -> list:
        found = []
        for agent in self.agents:
            filters = [f"{LABEL_AGENT}={agent.id}"] + [f"{k}={v}" for k, v in labels.items()]
            found += self.docker.containers.list(all=True, filters={"label": filters})
        return found

    def stop(self) -> None:
        if self.master:
            self.master.stop()
        self.mesos.stop()
        for agent in self.agents:
            agent.stop()
        for container in self.containers():
            with contextlib.suppress(Exception):
                container.remove(force=True)


@pytest.fixture(scope="session")
def docker_client():
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as ex:
        pytest.skip(f"no Docker engine reachable ({ex}); start one with `dockerd &`")
    return client


@pytest.fixture(scope="session")
def test_image(docker_client) -> Iterator[str]:
    """busybox httpd serving /health, built FROM scratch with the host's static busybox."""
    busybox = shutil.which("busybox")
    kind = subprocess.run(["file", "-L", busybox], capture_output=True, text=True).stdout if busybox else ""
    if "statically linked" not in kind:
        pytest.skip("needs a static busybox: apt-get install -y busybox-static")
    with tempfile.TemporaryDirectory() as context:
        root = pathlib.Path(context)
        shutil.copy(busybox, root / "busybox")
        (root / "www").mkdir()
        (root / "www" / "health").write_text("ok\n")
        (root / "www" / "index.html").write_text("standin test app\n")
        (root / "Dockerfile").write_text(DOCKERFILE)
        docker_client.images.build(path=context, tag=IMAGE, rm=True)
    yield IMAGE
    with contextlib.suppress(Exception):
        docker_client.images.remove(IMAGE, force=True)


@pytest.fixture(scope="module")
def cluster(docker_client, test_image) -> Iterator[Cluster]:
    """Master (in-memory store) + agents test-a, test-b (env:test) and prod-a (env:production)."""
    cluster = Cluster(docker_client, MemoryStore())
    cluster.start_master()
    try:
        # Distinct port ranges: the agents share one host, so their host ports must not collide.
        cluster.add_agent("test-a", "test", "[31000-31299]")
        cluster.add_agent("test-b", "test", "[31300-31599]")
        cluster.add_agent("prod-a", "production", "[31600-31899]")
        cluster.wait_agents_active(3)
        yield cluster
    finally:
        cluster.stop()


def _zookeeper_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 2181), timeout=1) as sock:
            sock.sendall(b"ruok")
            return sock.recv(4) == b"imok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def zookeeper() -> Iterator[str]:
    """A ZooKeeper on 127.0.0.1:2181: the one running, or Debian's zookeeperd started for the session."""
    pytest.importorskip("kazoo", reason="the ZooKeeper store needs kazoo (pip install kazoo)")
    if _zookeeper_answers():
        yield ZK_HOSTPORT
        return
    if not ZK_SERVER.exists() or not shutil.which("java"):
        pytest.skip(
            "no ZooKeeper on 127.0.0.1:2181 and Debian's zookeeperd is not installed (apt-get install zookeeperd)"
        )
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="standin-zk-"))
    (workdir / "data").mkdir()
    config = workdir / "zoo.cfg"
    config.write_text(
        f"tickTime=2000\ndataDir={workdir / 'data'}\nclientPort=2181\nclientPortAddress=127.0.0.1\n"
        "4lw.commands.whitelist=ruok\nadmin.enableServer=false\n"
    )
    env = {"ZOOCFGDIR": str(workdir), "ZOO_LOG_DIR": str(workdir), "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(
        ["java", "-cp", _zk_classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(config)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _zookeeper_answers():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.skip("could not start ZooKeeper on 127.0.0.1:2181")
            time.sleep(0.5)
        yield ZK_HOSTPORT
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _zk_classpath() -> str:
    # Debian's zookeeper.jar names its dependencies in its manifest's Class-Path.
    return "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"


@pytest.fixture
def zk_cluster(docker_client, test_image, zookeeper) -> Iterator[Cluster]:
    """Master with the ZooKeeper store under a fresh path, and agents test-a and test-b."""
    url = f"zk://{zookeeper}/standin-test-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(docker_client, ZooKeeperStore(url), zk=url)
    cluster.start_master()
    try:
        cluster.add_agent("test-a", "test", "[31900-31999]")
        cluster.add_agent("test-b", "test", "[32000-32099]")
        cluster.wait_agents_active(2)
        yield cluster
    finally:
        cluster.stop()
        with contextlib.suppress(Exception):
            cleaner = ZooKeeperStore(f"zk://{zookeeper}/")
            cleaner.client.delete(url.split(zookeeper, 1)[1], recursive=True)
            cleaner.close()


def web_app(app_id: str, instances: int = 2, **overrides: object) -> dict:
    """A Marathon app for the test image: BRIDGE, one random host port, HTTP health check on /health."""
    app = {
        "id": app_id,
        "instances": instances,
        "cpus": 0.1,
        "mem": 32,
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": IMAGE,
                "network": "BRIDGE",
                "portMappings": [{"containerPort": APP_PORT, "hostPort": 0, "protocol": "tcp", "name": "http"}],
            },
        },
        "env": {"SERVICE_NAME": "app", "SERVICE_TAGS": "test", "RELEASE": "1"},
        "labels": {"team": "platform"},
        "constraints": [["env", "CLUSTER", "test"]],
        "healthChecks": [
            {
                "protocol": "HTTP",
                "path": "/health",
                "portIndex": 0,
                "gracePeriodSeconds": 2,
                "intervalSeconds": 1,
                "timeoutSeconds": 1,
                "maxConsecutiveFailures": 2,
            }
        ],
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 0.5},
        "backoffSeconds": 1,
        "backoffFactor": 1.15,
        "taskKillGracePeriodSeconds": 1,
    }
    app.update(overrides)
    return app
