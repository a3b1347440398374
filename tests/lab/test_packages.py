"""Mesos, Marathon and registrator as production runs them: vendor packages, vendor units, the pinned image.

The lab's repository (lab/aptrepo.py) holds packages laid out like the vendors' with the stand-in
behind them, which fails where Mesos and Marathon fail; its registrator image keeps v7's
contract. Each mistake the audit of the production path found is made here by hand, breaks the
lab the way it would break production, and is then repaired by the formula.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
import yaml

from .conftest import PLATFORM, REGISTRY, REPO, marathon_auth, mesos_auth, node_exec, salt, wait_for

SITE = (
    yaml.safe_load((REPO / ".salt" / "pillar" / "site.sls").read_text())
    if (REPO / ".salt" / "pillar" / "site.sls").exists()
    else {}
)
MASTERS = [node for node, spec in sorted(PLATFORM["nodes"].items()) if "marathon" in spec["roles"]]


def mesos_state(node: str = "mm1") -> dict:
    return requests.get(
        f"http://{PLATFORM['nodes'][node]['ip']}:5050/master/state", auth=mesos_auth(), timeout=5
    ).json()


def unit(node: str, name: str, prop: str) -> str:
    return node_exec(node, f"systemctl show -p {prop} --value {name}").stdout.strip()


def apply(node: str, sls: str) -> dict:
    result = salt(node, "state.apply", sls, "--timeout=600", timeout=660).get(node)
    assert isinstance(result, dict), result
    failed = {k: v["comment"] for k, v in result.items() if not v["result"]}
    assert failed == {}, failed
    return result


def registered_framework() -> dict | None:
    frameworks = [f for f in mesos_state().get("frameworks", []) if f["name"] == "marathon"]
    return frameworks[0] if frameworks else None


def test_mesos_and_marathon_come_from_the_lab_repository_at_the_pinned_versions():
    versions = node_exec("mm1", "dpkg-query -W -f '${Package}=${Version}\\n' aventer-mesos marathon").stdout.split()
    assert versions == [f"aventer-mesos={SITE['mesos']['version']}", f"marathon={SITE['marathon']['version']}"]
    policy = node_exec("mm1", "apt-cache policy aventer-mesos").stdout
    assert f"http://{PLATFORM['master_ip']}:8089 bookworm/main" in policy, policy
    for node, daemon in (("mm1", "mesos-master"), ("mm1", "marathon"), ("ms2", "mesos-agent")):
        assert unit(node, daemon, "ActiveState") == "active", (node, daemon)
    assert unit("mm1", "marathon", "User") == "marathon"
    assert unit("mm1", "mesos-agent", "UnitFileState") == "disabled"
    assert unit("ms2", "mesos-master", "UnitFileState") == "disabled"


def test_a_flag_passed_twice_keeps_mesos_master_down_until_the_formula_repairs_it():
    """The classic package's /etc/default/mesos-master says PORT; a `port` flag file passes it again."""
    node = "mm3"
    since = node_exec(node, "date +%s").stdout.strip()
    node_exec(node, "echo PORT=5050 > /etc/default/mesos-master && echo 5050 > /etc/mesos-master/port"
                    " && systemctl restart mesos-master")  # fmt: skip
    try:

        def refused() -> bool:
            journal = node_exec(node, f"journalctl -u mesos-master --since=@{since} --no-pager").stdout
            return "Flag 'port' is already loaded" in journal and unit(node, "mesos-master", "ExecMainStatus") == "1"

        wait_for(refused, 30)
    finally:
        changes = apply(node, "mesos.master")
    assert "mesos-master-flag-dir-cleaned" in {v["__id__"] for v in changes.values() if v["changes"]}
    wait_for(lambda: unit(node, "mesos-master", "ActiveState") == "active", 30)
    wait_for(lambda: node_exec(node, "curl -sf http://127.0.0.1:5050/health").returncode == 0, 30)


@pytest.fixture
def marathons_restored():
    """Every master's Marathon back as the formula writes it, and registered with Mesos again."""
    yield
    for node in MASTERS:
        apply(node, "marathon")
    wait_for(lambda: (registered_framework() or {}).get("active"), 60)


def restart_marathons_with(edit: str) -> None:
    for node in MASTERS:
        assert node_exec(node, f"{edit} /etc/default/marathon && systemctl restart marathon").returncode == 0


def leading_marathon() -> str:
    """http://<ip>:8080 of the leading Marathon, asked of each master until one answers."""
    ips = {f"{node}.{PLATFORM['domain']}": PLATFORM["nodes"][node]["ip"] for node in MASTERS}
    for node in MASTERS:
        try:
            leader = requests.get(
                f"http://{PLATFORM['nodes'][node]['ip']}:8080/v2/leader", auth=marathon_auth(), timeout=5
            ).json()["leader"]
        except (requests.RequestException, KeyError, ValueError):
            continue
        return f"http://{ips[leader.split(':')[0]]}:8080"
    return ""


def test_marathon_bound_to_loopback_never_registers_with_mesos(marathons_restored):
    """Vagrant's `127.0.1.1 <fqdn>` line makes libprocess bind there unless LIBPROCESS_IP says otherwise."""
    restart_marathons_with("sed -i 's/^LIBPROCESS_IP=.*/LIBPROCESS_IP=127.0.1.1/'")
    wait_for(lambda: not (registered_framework() or {}).get("active"), 30)
    journals = "".join(node_exec(node, "journalctl -u marathon -n 30").stdout for node in MASTERS)
    assert "Scheduler driver bound to loopback interface!" in journals
    # Unregistered, it gets no offers: an app it accepts never starts a task.
    wait_for(leading_marathon, 30)
    marathon = leading_marathon()
    image = f"{REGISTRY['pull']}/platform/base:bookworm"
    app = {"id": f"/lab-loopback-{int(time.time())}", "cmd": "sleep 600", "cpus": 0.01, "mem": 8, "instances": 1,
           "container": {"type": "DOCKER", "docker": {"image": image}}}  # fmt: skip
    assert requests.post(f"{marathon}/v2/apps", json=app, auth=marathon_auth(), timeout=10).status_code == 201
    try:
        time.sleep(8)
        body = requests.get(f"{marathon}/v2/apps{app['id']}", auth=marathon_auth(), timeout=5).json()["app"]
        # A registered Marathon would have started it within seconds.
        assert (body["tasksStaged"], body["tasksRunning"], body.get("lastTaskFailure")) == (0, 0, None), body
    finally:
        requests.delete(f"{marathon}/v2/apps{app['id']}?force=true", auth=marathon_auth(), timeout=10)


@pytest.mark.parametrize(
    ("edit", "user"),
    [
        # Without MARATHON_MESOS_USER, Marathon runs tasks as the user it runs as: `marathon`.
        ("sed -i '/^MARATHON_MESOS_USER=/d'", "marathon"),
        ("sed -i 's/^MARATHON_MESOS_USER=.*/MARATHON_MESOS_USER=root/'", "root"),
    ],
    ids=["marathon", "root"],
)
def test_a_mesos_user_the_acls_refuse_fails_every_task_at_the_master(marathons_restored, edit, user):
    """The masters' run_tasks ACL lets the framework principal run tasks as the task user only: a task
    as any other user is refused by the leading master (TASK_ERROR), before any agent sees it."""
    restart_marathons_with(edit)
    marathon = f"http://{PLATFORM['nodes']['mm1']['ip']}:8080"
    wait_for(lambda: requests.get(f"{marathon}/v2/apps", auth=marathon_auth(), timeout=5).status_code == 200, 60)
    image = f"{REGISTRY['pull']}/platform/base:bookworm"
    app = {"id": f"/lab-user-{user}-{int(time.time())}", "cmd": "sleep 600", "cpus": 0.01, "mem": 8, "instances": 1,
           "container": {"type": "DOCKER", "docker": {"image": image}}}  # fmt: skip
    assert requests.post(f"{marathon}/v2/apps", json=app, auth=marathon_auth(), timeout=10).status_code == 201
    try:

        def app_state() -> dict:
            return requests.get(f"{marathon}/v2/apps{app['id']}", auth=marathon_auth(), timeout=5).json()["app"]

        wait_for(lambda: app_state().get("lastTaskFailure"), 60)
        body = app_state()
        failure = body["lastTaskFailure"]
        assert failure["state"] == "TASK_ERROR", failure
        framework_id = (registered_framework() or {}).get("id")
        assert failure["message"] == (
            f"Principal 'marathon' no authorized to launch task {failure['taskId']} of framework {framework_id}"
            f" under user '{user}'"
        ), failure
        assert body["tasksRunning"] == 0
    finally:
        requests.delete(f"{marathon}/v2/apps{app['id']}?force=true", auth=marathon_auth(), timeout=10)


def test_registrator_finds_the_docker_socket_only_where_v7_looks():
    """The container the formula runs is up; the same image with the socket at the engine's own path exits."""
    node = "ms4"
    assert node_exec(node, "docker inspect -f '{{.State.Running}}' registrator").stdout.strip() == "true"
    image = node_exec(node, "docker inspect -f '{{.Config.Image}}' registrator").stdout.strip()
    wrong = node_exec(
        node, f"timeout 60 docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock {image}"
              f" -ip {PLATFORM['nodes'][node]['ip']} consul://127.0.0.1:8500",
    )  # fmt: skip
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "cannot connect to Docker at unix:///tmp/docker.sock" in wrong.stderr


def test_the_repaired_platform_reports_no_drift_on_the_masters():
    for node in MASTERS:
        result = salt(node, "state.apply", "mesos.master,marathon", "test=True", "--timeout=600", timeout=660)[node]
        pending = {v["__id__"]: v["changes"] for v in result.values() if v["result"] is None or v["changes"]}
        assert pending == {}, (node, json.dumps(pending)[:2000])
