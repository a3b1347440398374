"""The stand-in's Marathon API and scheduler against real containers: what a deploy runner sees."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
import requests

from .conftest import REFERENCE, Cluster, wait_until, web_app


def unique_id(name: str) -> str:
    return f"/{name}-{uuid.uuid4().hex[:6]}"


def deploy(cluster: Cluster, app: dict) -> dict:
    """POST the app, wait for its deployment, return GET /v2/apps/{id}'s app."""
    answer = cluster.api("POST", "/v2/apps", json=app)
    assert answer.status_code == 201, answer.text
    cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
    return cluster.api.app(app["id"])


def test_cluster_endpoints(cluster: Cluster) -> None:
    api = cluster.api
    ping = api("GET", "/ping")
    assert (ping.status_code, ping.text) == (200, "pong")
    leader = api("GET", "/v2/leader")
    assert leader.json() == {"leader": f"master-1.localdomain:{cluster.marathon_port}"}
    assert leader.headers["X-Marathon-Leader"] == f"http://master-1.localdomain:{cluster.marathon_port}"
    info = api("GET", "/v2/info").json()
    assert info["elected"] is True and info["name"] == "marathon" and info["version"].endswith("-standin")
    state = requests.get(f"http://127.0.0.1:{cluster.mesos_port}/master/state", timeout=5).json()
    agents = {s["hostname"]: s for s in state["slaves"]}
    assert state["leader"] and state["activated_slaves"] == 3
    assert sorted(a["attributes"]["env"] for a in agents.values()) == ["production", "test", "test"]
    assert all(a["active"] and a["resources"]["ports"].startswith("[31") for a in agents.values())
    agent_state = requests.get(f"http://127.0.0.1:{cluster.agents[0].port}/state", timeout=5).json()
    assert agent_state["attributes"] == {"env": "test"} and agent_state["hostname"] == cluster.agents[0].hostname


def test_post_app_deploys_healthy_tasks_on_the_right_agents(cluster: Cluster) -> None:
    app_id = unique_id("web")
    answer = cluster.api("POST", "/v2/apps", json=web_app(app_id))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    deployment_id = answer.headers["Marathon-Deployment-Id"]
    assert body["deployments"] == [{"id": deployment_id}] and "deploymentId" not in body
    assert body["id"] == app_id and body["tasks"] == [] and body["version"]
    assert [body[k] for k in ("tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy")] == [0, 0, 0, 0]
    assert body["networks"] == [{"mode": "container/bridge"}]
    assert body["container"]["portMappings"][0]["containerPort"] == 8000

    cluster.api.wait_deployed(deployment_id)
    app = cluster.api.app(app_id)
    assert (app["tasksRunning"], app["tasksHealthy"], app["tasksUnhealthy"], app["deployments"]) == (2, 2, 0, [])
    test_hosts = {a.hostname for a in cluster.agents if a.attributes["env"] == "test"}
    for task in app["tasks"]:
        assert task["host"] in test_hosts and task["appId"] == app_id and task["version"] == app["version"]
        assert 31000 <= task["ports"][0] <= 31599 and task["healthCheckResults"][0]["alive"] is True
        assert requests.get(f"http://127.0.0.1:{task['ports'][0]}/health", timeout=5).text == "ok\n"
        # What registrator and the app read: the app's env and labels, and Marathon's HOST/PORT vars.
        container = cluster.docker.containers.get(task["id"])
        env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
        assert env["SERVICE_NAME"] == "app" and env["HOST"] == task["host"]
        assert env["PORT0"] == env["PORTS"] == str(task["ports"][0]) and env["MARATHON_APP_ID"] == app_id
        assert container.labels["team"] == "platform"
        assert container.attrs["HostConfig"]["NetworkMode"] == "bridge"
    tasks = cluster.api("GET", "/v2/tasks").json()["tasks"]
    assert {t["id"] for t in app["tasks"]} <= {t["id"] for t in tasks}
    listed = cluster.api("GET", "/v2/apps?embed=apps.tasks").json()["apps"]
    assert any(a["id"] == app_id and len(a["tasks"]) == 2 for a in listed)
    assert "tasks" not in cluster.api("GET", "/v2/apps").json()["apps"][0]

    delete = cluster.api("DELETE", f"/v2/apps{app_id}")
    assert delete.status_code == 200 and delete.json()["deploymentId"] == delete.headers["Marathon-Deployment-Id"]
    assert cluster.api("GET", f"/v2/apps{app_id}").status_code == 404
    cluster.api.wait_deployed(delete.json()["deploymentId"])
    assert not cluster.containers(**{"standin.app-id": app_id})


def test_rolling_upgrade_never_drops_below_full_capacity(cluster: Cluster) -> None:
    app_id = unique_id("rolling")
    first = deploy(cluster, web_app(app_id))
    assert first["tasksHealthy"] == 2
    answer = cluster.api("PUT", f"/v2/apps{app_id}", json={"env": {"RELEASE": "2"}})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"version", "deploymentId"}
    deployment_id = answer.json()["deploymentId"]

    samples = []
    while deployment_id in cluster.api.deployment_ids():
        app = cluster.api.app(app_id)
        samples.append((app["tasksHealthy"], len([t for t in app["tasks"] if t["state"] != "TASK_KILLING"])))
        assert len(samples) < 200, "rolling upgrade did not finish"
        time.sleep(0.2)
    assert samples, "the deployment finished before the first sample"
    assert min(healthy for healthy, _ in samples) >= 2, samples  # minimumHealthCapacity 1
    assert max(alive for _, alive in samples) <= 3, samples  # 2 × (1 + maximumOverCapacity 0.5)
    app = cluster.api.app(app_id)
    # A partial update replaces each top-level field it names: env is now exactly the new one.
    assert app["tasksHealthy"] == 2 and app["env"] == {"RELEASE": "2"}
    assert {t["version"] for t in app["tasks"]} == {answer.json()["version"]}
    assert not {t["id"] for t in first["tasks"]} & {t["id"] for t in app["tasks"]}


def test_unhealthy_version_keeps_deploying_locks_the_app_and_reverts(cluster: Cluster) -> None:
    app_id = unique_id("broken")
    good = deploy(cluster, web_app(app_id))
    bad_check = dict(good["healthChecks"][0], path="/missing")
    answer = cluster.api("PUT", f"/v2/apps{app_id}", json={"healthChecks": [bad_check], "env": {"RELEASE": "bad"}})
    assert answer.status_code == 200, answer.text
    deployment_id = answer.json()["deploymentId"]

    def failed_once() -> bool:
        return "lastTaskFailure" in cluster.api.app(app_id)

    wait_until(failed_once, 20, what="the new version's task to be killed as unhealthy")
    time.sleep(2)
    deployments = cluster.api("GET", "/v2/deployments").json()
    mine = [d for d in deployments if d["id"] == deployment_id]
    assert mine and mine[0]["affectedApps"] == [app_id]
    assert mine[0]["currentActions"][0]["action"] == "RestartApplication"
    app = cluster.api.app(app_id)
    assert app["tasksHealthy"] >= 2, "old tasks must keep serving while the new ones fail"
    assert app["deployments"] == [{"id": deployment_id}]

    locked = cluster.api("PUT", f"/v2/apps{app_id}", json={"instances": 3})
    assert locked.status_code == 409
    assert locked.json()["deployments"] == [{"id": deployment_id}]
    assert locked.json()["message"].startswith("App is locked by one or more deployments.")

    revert = cluster.api("DELETE", f"/v2/deployments/{deployment_id}")
    assert revert.status_code == 200, revert.text
    assert revert.headers["Marathon-Deployment-Id"] == revert.json()["deploymentId"] != deployment_id
    cluster.api.wait_deployed(revert.json()["deploymentId"])
    app = cluster.api.app(app_id)
    assert app["version"] == good["version"] and app["healthChecks"][0]["path"] == "/health"
    assert app["tasksHealthy"] == 2 and {t["version"] for t in app["tasks"]} == {good["version"]}
    assert cluster.api("DELETE", "/v2/deployments/no-such-plan").json() == {
        "message": "DeploymentPlan no-such-plan does not exist"
    }


def test_rollback_by_version(cluster: Cluster) -> None:
    app_id = unique_id("rollback")
    first = deploy(cluster, web_app(app_id, instances=1))
    update = cluster.api("PUT", f"/v2/apps{app_id}", json={"env": {"RELEASE": "2"}})
    cluster.api.wait_deployed(update.json()["deploymentId"])
    versions = cluster.api("GET", f"/v2/apps{app_id}/versions").json()["versions"]
    assert versions == sorted([first["version"], update.json()["version"]], reverse=True)
    stored = cluster.api("GET", f"/v2/apps{app_id}/versions/{first['version']}").json()
    assert stored["env"]["RELEASE"] == "1" and stored["version"] == first["version"]

    mixed = cluster.api("PUT", f"/v2/apps{app_id}", json={"version": first["version"], "instances": 2})
    assert mixed.status_code == 422
    assert "The 'version' field may only be combined with the 'id' field." in json.dumps(mixed.json())
    unknown = cluster.api("PUT", f"/v2/apps{app_id}", json={"version": "2001-01-01T00:00:00.000Z"})
    assert unknown.status_code == 404

    rollback = cluster.api("PUT", f"/v2/apps{app_id}", json={"version": first["version"]})
    assert rollback.status_code == 200, rollback.text
    cluster.api.wait_deployed(rollback.json()["deploymentId"])
    app = cluster.api.app(app_id)
    assert app["env"]["RELEASE"] == "1" and app["tasksHealthy"] == 1
    assert app["tasks"][0]["version"] == rollback.json()["version"]


def test_errors_have_marathons_shapes(cluster: Cluster) -> None:
    api = cluster.api
    assert api("GET", "/v2/apps/nope").json() == {"message": "App '/nope' does not exist"}
    assert api("GET", "/v2/apps/nope").status_code == 404
    bad_json = api("POST", "/v2/apps", data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["message"] == "Invalid JSON"
    wrong_type = api("POST", "/v2/apps", json={"id": "/x", "cmd": "sleep 1", "instances": "two"})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["details"] == [{"path": "/instances", "errors": ["error.expected.jsnumber"]}]
    too_much = api("POST", "/v2/apps", json=web_app("/x", upgradeStrategy={"minimumHealthCapacity": 1.5}))
    assert too_much.status_code == 422
    assert too_much.json() == {
        "message": "Object is not valid",
        "details": [{"path": "/upgradeStrategy/minimumHealthCapacity", "errors": ["is greater than 1.0"]}],
    }
    app_id = unique_id("twice")
    app = web_app(app_id, instances=0, healthChecks=[])
    first = api("POST", "/v2/apps", json=app)
    assert first.status_code == 201
    again = api("POST", "/v2/apps", json=app)
    assert again.status_code == 409 and again.json() == {"message": f"An app with id [{app_id}] already exists."}
    api.wait_deployed(first.headers["Marathon-Deployment-Id"])
    # PUT on an unknown id creates the app (201); partialUpdate=false replaces the whole definition.
    created = api("PUT", f"/v2/apps{app_id}-put", json=dict(app, id=f"{app_id}-put"))
    assert created.status_code == 201 and created.headers["Marathon-Deployment-Id"]
    replaced = api("PUT", f"/v2/apps{app_id}?partialUpdate=false", json={"cmd": "sleep 100", "instances": 0})
    assert replaced.status_code == 200
    api.wait_deployed(replaced.json()["deploymentId"])
    # Unset optional fields are left out of the answer, as Marathon writes an AppDefinition.
    assert "container" not in api.app(app_id) and api.app(app_id)["env"] == {}
    for path in (app_id, f"{app_id}-put"):
        assert api("DELETE", f"/v2/apps{path}").status_code == 200


BAD_APPS = {
    "minimumHealthCapacity above 1": {"upgradeStrategy": {"minimumHealthCapacity": 1.5}},
    "upper-case id": {"id": "/Web"},
    "reserved id suffix": {"id": "/web/restart"},
    "UNIQUE with a value": {"constraints": [["hostname", "UNIQUE", "x"]]},
    "MAX_PER without a number": {"constraints": [["env", "MAX_PER", "many"]]},
    "unknown constraint operator": {"constraints": [["env", "EQUALS", "test"]]},
    "portIndex beyond the mappings": {"healthChecks": [{"protocol": "HTTP", "portIndex": 3}]},
    "negative instances": {"instances": -1},
    "unknown field": {"colour": "blue"},
    "cmd and args": {"cmd": "sleep 1", "args": ["sleep", "1"]},
}


@pytest.mark.shared_reference
@pytest.mark.skipif(
    not (REFERENCE / "validate_app.py").exists(), reason=f"{REFERENCE}/validate_app.py is absent (../shared/reference)"
)
def test_invalid_apps_get_422_like_validate_app(cluster: Cluster, tmp_path) -> None:
    pytest.importorskip("jsonschema", reason="validate_app.py needs jsonschema")
    base = web_app(unique_id("valid"), instances=0)
    cases = {name: {**base, **change} for name, change in BAD_APPS.items()} | {"valid app": base}
    for name, app in cases.items():
        path = tmp_path / "app.json"
        path.write_text(json.dumps(app))
        verdict = subprocess.run(
            [sys.executable, str(REFERENCE / "validate_app.py"), str(path), "--marathon", "1.5"],
            capture_output=True,
            text=True,
        )
        answer = cluster.api("POST", "/v2/apps", json=app)
        if verdict.returncode == 0:
            assert answer.status_code == 201, f"{name}: validate_app.py accepts it, the stand-in said {answer.text}"
            cluster.api("DELETE", f"/v2/apps{app['id']}")
        else:
            assert verdict.returncode == 1, verdict.stderr
            assert answer.status_code == 422, (
                f"{name}: validate_app.py rejects it ({verdict.stdout}), got {answer.text}"
            )
            assert answer.json()["message"] == "Object is not valid"
            assert all(d["path"].startswith("/") and d["errors"] for d in answer.json()["details"])


def test_unique_hostname_and_max_per(cluster: Cluster) -> None:
    sleeper = {"healthChecks": [], "cmd": "sleep 3600"}
    unique = web_app(unique_id("unique"), instances=3, constraints=[["hostname", "UNIQUE"], ["env", "CLUSTER", "test"]])
    answer = cluster.api("POST", "/v2/apps", json={**unique, **sleeper})
    assert answer.status_code == 201

    def two_running() -> list:
        tasks = cluster.api.app(unique["id"])["tasks"]
        return tasks if len([t for t in tasks if t["state"] == "TASK_RUNNING"]) == 2 else []

    tasks = wait_until(two_running, 20, what="two tasks of the UNIQUE app")
    time.sleep(1.5)  # a third would have been placed by now if UNIQUE allowed it
    app = cluster.api.app(unique["id"])
    assert len(app["tasks"]) == 2 and len({t["host"] for t in tasks}) == 2
    assert app["deployments"], "3 instances on 2 test agents: the deployment cannot finish"

    max_per = web_app(unique_id("maxper"), instances=2, constraints=[["env", "MAX_PER", "1"]])
    deployed = deploy(cluster, {**max_per, **sleeper})
    envs = sorted(
        next(a.attributes["env"] for a in cluster.agents if a.hostname == t["host"]) for t in deployed["tasks"]
    )
    assert envs == ["production", "test"]
    for app_id in (unique["id"], max_per["id"]):
        cluster.api("DELETE", f"/v2/apps{app_id}")


def test_group_by_hostname_spreads_over_the_environments_agents_and_a_rolling_restart_completes(
    cluster: Cluster,
) -> None:
    # As the platform's app: on its environment's agents (test-a, test-b; prod-a is another
    # environment's, so not a group GROUP_BY must fill), spread evenly over them.
    spread = web_app(
        unique_id("spread"), instances=4, constraints=[["env", "CLUSTER", "test"], ["hostname", "GROUP_BY"]]
    )
    app = deploy(cluster, {**spread, "healthChecks": [], "cmd": "sleep 3600"})
    assert sorted(Counter(t["host"] for t in app["tasks"]).values()) == [2, 2]
    # A rolling restart places each new task beside the old ones (over capacity) and completes;
    # like Marathon, it keeps no even spread while old tasks are killed in between.
    answer = cluster.api("POST", f"/v2/apps{app['id']}/restart")
    cluster.api.wait_deployed(answer.json()["deploymentId"])
    after = cluster.api.app(app["id"])
    assert len(after["tasks"]) == 4 and {t["host"] for t in after["tasks"]} <= {t["host"] for t in app["tasks"]}
    assert not {t["id"] for t in after["tasks"]} & {t["id"] for t in app["tasks"]}
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_restart_replaces_every_task(cluster: Cluster) -> None:
    app = deploy(cluster, web_app(unique_id("restart"), instances=1))
    answer = cluster.api("POST", f"/v2/apps{app['id']}/restart")
    assert answer.status_code == 200 and answer.headers["Marathon-Deployment-Id"] == answer.json()["deploymentId"]
    cluster.api.wait_deployed(answer.json()["deploymentId"])
    after = cluster.api.app(app["id"])
    assert after["tasksHealthy"] == 1 and after["tasks"][0]["id"] != app["tasks"][0]["id"]
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_restarted_master_with_zookeeper_store_loses_nothing(zk_cluster: Cluster) -> None:
    from standin.store import ZooKeeperStore

    api = zk_cluster.api
    app = deploy(zk_cluster, web_app(unique_id("durable")))
    stuck = api("PUT", f"/v2/apps{app['id']}", json={"healthChecks": [dict(app["healthChecks"][0], path="/missing")]})
    deployment_id = stuck.json()["deploymentId"]
    before = api.app(app["id"])
    versions = api("GET", f"/v2/apps{app['id']}/versions").json()

    zk_cluster.master.stop()
    zk_cluster.start_master(ZooKeeperStore(zk_cluster.zk))
    wait_until(lambda: api("GET", "/v2/leader").status_code == 200, 20, what="a leader after the restart")

    after = api.app(app["id"])
    assert {k: after[k] for k in ("version", "env", "healthChecks", "versionInfo")} == {
        k: before[k] for k in ("version", "env", "healthChecks", "versionInfo")
    }
    assert api("GET", f"/v2/apps{app['id']}/versions").json() == versions
    assert deployment_id in api.deployment_ids(), "the unfinished deployment survives the restart"
    old_ids = {t["id"] for t in app["tasks"]}
    assert old_ids <= {t["id"] for t in after["tasks"]}, "running tasks are adopted, not relaunched"
    wait_until(lambda: api.app(app["id"])["tasksHealthy"] >= 2, 15, what="health results rebuilt after the restart")
    revert = api("DELETE", f"/v2/deployments/{deployment_id}")
    api.wait_deployed(revert.json()["deploymentId"])
    assert {t["id"] for t in api.app(app["id"])["tasks"]} == old_ids


def test_non_leader_proxies_to_the_leader(zk_cluster: Cluster) -> None:
    from .conftest import MarathonClient

    follower = zk_cluster.start_follower()
    try:
        api = MarathonClient(f"http://127.0.0.1:{follower.port}")
        info = api("GET", "/v2/info").json()
        assert info["elected"] is False and info["leader"] == f"master-1.localdomain:{zk_cluster.marathon_port}"
        created = api("POST", "/v2/apps", json=web_app(unique_id("proxied"), instances=0))
        assert created.status_code == 201 and created.headers["Marathon-Deployment-Id"]
        assert created.headers["X-Marathon-Leader"] == f"http://master-1.localdomain:{zk_cluster.marathon_port}"
        assert "X-Marathon-Via" in created.headers
        # Failover: the leader goes away, the follower takes over with the same apps.
        zk_cluster.master.stop()
        zk_cluster.master = None
        wait_until(lambda: api("GET", "/v2/info").json()["elected"], 20, what="the follower to lead")
        assert api("GET", f"/v2/apps{created.json()['id']}").status_code == 200
    finally:
        follower.stop()


def test_concurrent_posts_are_serialised(cluster: Cluster) -> None:
    app = web_app(unique_id("race"), instances=0, healthChecks=[])
    statuses: list[int] = []

    def post() -> None:
        statuses.append(cluster.api("POST", "/v2/apps", json=app).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_agents_and_marathon_find_the_leading_mesos_master_in_zookeeper(docker_client, zookeeper) -> None:
    """As in the lab: --master=zk://.../mesos, the leader read from the masters' election."""
    from standin.agent import Agent
    from standin.mesos_master import MesosMaster
    from standin.store import MesosMasters, ZooKeeperStore

    from .conftest import free_port

    url = f"zk://{zookeeper}/mesos-test-{uuid.uuid4().hex[:8]}"
    mesos = MesosMaster(ZooKeeperStore(url), hostname="mm-zk.localdomain", ip="127.0.0.1", port=free_port()).start()
    agent = Agent(ip="127.0.0.1", hostname="zk-agent.localdomain", port=0, attributes={"env": "test"}, resources={},
                  zk=url, docker_client=docker_client).start()  # fmt: skip
    masters = MesosMasters(url)
    try:
        wait_until(lambda: masters.addresses() == [f"127.0.0.1:{mesos.port}"], 20, what="the leader in ZooKeeper")
        wait_until(lambda: agent.id in mesos.agents, 20, what="the agent registered through ZooKeeper")
    finally:
        masters.close()
        agent.stop()
        mesos.stop()
