"""Mesos' operator API as its tools read it, and maintenance: a machine that is down runs nothing and gets no offers."""

from __future__ import annotations

import time
import uuid

import requests

from .conftest import Cluster, wait_until, web_app


def mesos(cluster: Cluster, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"http://127.0.0.1:{cluster.mesos_port}{path}", timeout=10, **kwargs)


def agents(cluster: Cluster) -> set[str]:
    return {agent["hostname"] for agent in mesos(cluster, "GET", "/master/state").json()["slaves"] if agent["active"]}


def test_a_machine_down_has_its_tasks_replaced_elsewhere_and_up_brings_it_back(cluster: Cluster) -> None:
    app_id = f"/maintained-{uuid.uuid4().hex[:6]}"
    answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=1, healthChecks=[]))
    cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
    (task,) = cluster.api.app(app_id)["tasks"]
    machine = {"hostname": task["host"], "ip": "127.0.0.1"}

    refused = mesos(cluster, "POST", "/machine/down", json=[machine])
    assert refused.status_code == 400 and "is not part of a maintenance schedule" in refused.text
    window = {"machine_ids": [machine], "unavailability": {"start": {"nanoseconds": 0}}}
    assert mesos(cluster, "POST", "/maintenance/schedule", json={"windows": [window]}).status_code == 200
    status = mesos(cluster, "GET", "/maintenance/status").json()
    (draining,) = status["draining_machines"]
    assert (draining["id"], status["down_machines"]) == (machine, [])
    # Marathon has a task there, so it got an inverse offer; like the real one it never answers it.
    framework = cluster.api("GET", "/v2/info").json()["frameworkId"]
    assert [(s["framework_id"], s["status"]) for s in draining["statuses"]] == [({"value": framework}, "UNKNOWN")]
    assert task["host"] in agents(cluster), "a draining machine still runs and is offered"

    assert mesos(cluster, "POST", "/machine/down", json=[machine]).status_code == 200
    assert mesos(cluster, "GET", "/maintenance/status").json()["down_machines"] == [machine]
    wait_until(lambda: task["host"] not in agents(cluster), 10, what="the down machine's agent gone from Mesos")

    def replaced() -> bool:
        tasks = cluster.api.app(app_id)["tasks"]
        return [t["state"] for t in tasks] == ["TASK_RUNNING"] and tasks[0]["host"] != task["host"]

    wait_until(replaced, 60, what="the task replaced on another agent")
    assert not cluster.containers(**{"standin.task-id": task["id"]})
    # Scaled up meanwhile: nothing goes to the down machine.
    scaled = cluster.api("PUT", f"/v2/apps{app_id}", json={"instances": 2})
    cluster.api.wait_deployed(scaled.json()["deploymentId"])
    assert task["host"] not in {t["host"] for t in cluster.api.app(app_id)["tasks"]}

    assert mesos(cluster, "POST", "/machine/up", json=[machine]).status_code == 200
    assert mesos(cluster, "GET", "/maintenance/schedule").json() == {"windows": []}
    wait_until(lambda: task["host"] in agents(cluster), 20, what="the agent back after /machine/up")
    again = mesos(cluster, "POST", "/machine/up", json=[machine])
    assert again.status_code == 400 and "is not part of a maintenance schedule" in again.text
    cluster.api("DELETE", f"/v2/apps{app_id}")


def test_the_operator_endpoints_show_agents_frameworks_and_tasks(cluster: Cluster) -> None:
    app_id = f"/viewed-{uuid.uuid4().hex[:6]}"
    answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=1, healthChecks=[]))
    cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
    (task,) = cluster.api.app(app_id)["tasks"]
    wait_until(
        lambda: (
            (task["id"], "TASK_RUNNING")
            in {(t["id"], t["state"]) for t in mesos(cluster, "GET", "/master/tasks").json()["tasks"]}
        ),
        10,
        what="the task running in Mesos",
    )
    summary = mesos(cluster, "GET", "/master/state-summary").json()
    assert sorted(a["attributes"]["env"] for a in summary["slaves"]) == ["production", "test", "test"]
    (framework,) = [f for f in summary["frameworks"] if f["name"] == "marathon"]
    assert framework["active"] and framework["TASK_RUNNING"] >= 1
    assert sum(a["TASK_RUNNING"] for a in summary["slaves"]) == framework["TASK_RUNNING"]
    slaves = mesos(cluster, "GET", "/master/slaves").json()
    assert len(slaves["slaves"]) == 3 and slaves["recovered_slaves"] == []
    assert [f["name"] for f in mesos(cluster, "GET", "/master/frameworks").json()["frameworks"]] == ["marathon"]
    snapshot = mesos(cluster, "GET", "/metrics/snapshot").json()
    assert (snapshot["master/elected"], snapshot["master/slaves_active"]) == (1.0, 3.0)
    assert snapshot["master/tasks_running"] == framework["TASK_RUNNING"]
    redirect = mesos(cluster, "GET", "/master/redirect", allow_redirects=False)
    assert (redirect.status_code, redirect.headers["Location"]) == (307, f"//master-1.localdomain:{cluster.mesos_port}")
    assert mesos(cluster, "GET", "/master/health").status_code == 200
    assert mesos(cluster, "GET", "/version").json()["version"].startswith("1.11.0")
    cluster.api("DELETE", f"/v2/apps{app_id}")


def test_the_pages_at_root_show_agents_and_apps(cluster: Cluster) -> None:
    app_id = f"/paged-{uuid.uuid4().hex[:6]}"
    answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=1, healthChecks=[]))
    cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
    page = mesos(cluster, "GET", "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Lab stand-in" in page.text
    for agent in cluster.agents:
        assert agent.hostname in page.text
    assert "env:production" in page.text and "marathon" in page.text
    marathon = cluster.api("GET", "/")
    assert marathon.status_code == 200 and marathon.headers["Content-Type"].startswith("text/html")
    assert f"<td>{app_id}</td><td>1 / 1</td>" in marathon.text
    cluster.api("DELETE", f"/v2/apps{app_id}")


def test_marathon_launches_nothing_on_an_agent_whose_maintenance_window_has_begun(cluster: Cluster) -> None:
    test_agents = sorted(agent.hostname for agent in cluster.agents if agent.hostname.startswith("test-"))
    draining, other = test_agents
    machine = {"hostname": draining, "ip": "127.0.0.1"}
    missing = mesos(cluster, "POST", "/maintenance/schedule", json={"windows": [{"machine_ids": [machine]}]})
    assert missing.status_code == 400 and "unavailability" in missing.text
    soon = {"start": {"nanoseconds": int((time.time() + 3600) * 1e9)}}
    app_id = f"/drained-{uuid.uuid4().hex[:6]}"
    try:
        # A window an hour away: Marathon (draining_seconds 0) still launches there.
        window = {"machine_ids": [machine], "unavailability": soon}
        assert mesos(cluster, "POST", "/maintenance/schedule", json={"windows": [window]}).status_code == 200
        answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=4, healthChecks=[]))
        cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
        assert {t["host"] for t in cluster.api.app(app_id)["tasks"]} == {draining, other}

        # The window has begun: the running tasks stay, every new one goes to the other agent.
        window = {"machine_ids": [machine], "unavailability": {"start": {"nanoseconds": 0}}}
        assert mesos(cluster, "POST", "/maintenance/schedule", json={"windows": [window]}).status_code == 200
        time.sleep(2)  # the next offers carry the unavailability
        before = {t["id"] for t in cluster.api.app(app_id)["tasks"] if t["host"] == draining}
        scaled = cluster.api("PUT", f"/v2/apps{app_id}", json={"instances": 8})
        cluster.api.wait_deployed(scaled.json()["deploymentId"])
        on_draining = {t["id"] for t in cluster.api.app(app_id)["tasks"] if t["host"] == draining}
        assert on_draining == before
    finally:
        cluster.api("DELETE", f"/v2/apps{app_id}?force=true")
        mesos(cluster, "POST", "/maintenance/schedule", json={"windows": []})
