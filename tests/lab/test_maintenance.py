"""Draining an agent through Mesos' maintenance API, as day-2 work does: nothing is lost, nothing lands there."""

from __future__ import annotations

import requests

from .conftest import PLATFORM, marathon_auth, mesos_auth, wait_for

MESOS = f"http://{PLATFORM['nodes']['mm1']['ip']}:5050"
MARATHON = f"http://{PLATFORM['nodes']['mm1']['ip']}:8080"


def mesos(method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{MESOS}{path}", auth=mesos_auth(), timeout=10, **kwargs)


def app_tasks() -> list[dict]:
    return requests.get(f"{MARATHON}/v2/apps/app-test/tasks", auth=marathon_auth(), timeout=10).json()["tasks"]


def deployed(deployment_id: str) -> bool:
    return deployment_id not in {
        d["id"] for d in requests.get(f"{MARATHON}/v2/deployments", auth=marathon_auth(), timeout=10).json()
    }


def active_agents() -> set[str]:
    return {agent["hostname"] for agent in mesos("GET", "/master/state").json()["slaves"] if agent["active"]}


def test_a_machine_down_moves_the_apps_instances_and_takes_none_until_it_is_up():
    tasks = app_tasks()
    host = sorted(t["host"] for t in tasks)[0]
    node = host.split(".")[0]
    machine = {"hostname": host, "ip": PLATFORM["nodes"][node]["ip"]}
    window = {"machine_ids": [machine], "unavailability": {"start": {"nanoseconds": 0}}}
    assert mesos("POST", "/maintenance/schedule", json={"windows": [window]}).status_code == 200
    try:
        assert mesos("POST", "/machine/down", json=[machine]).status_code == 200
        wait_for(lambda: host not in active_agents(), timeout=30, interval=0.5)

        def moved() -> bool:
            now = app_tasks()
            running = [t for t in now if t["state"] == "TASK_RUNNING" and t.get("healthCheckResults")]
            return len(running) == len(tasks) and all(t["host"] != host for t in now)

        wait_for(moved, timeout=120, interval=1)
        # Scaled up while the machine is down: the new instance goes elsewhere too.
        scaled = requests.put(
            f"{MARATHON}/v2/apps/app-test", json={"instances": len(tasks) + 1}, auth=marathon_auth(), timeout=10
        )
        assert scaled.status_code == 200, scaled.text
        wait_for(lambda: deployed(scaled.json()["deploymentId"]), timeout=90, interval=1)
        assert len(app_tasks()) == len(tasks) + 1 and host not in {t["host"] for t in app_tasks()}
    finally:
        # force: whatever deployment is still running gives way to putting the app back.
        requests.put(
            f"{MARATHON}/v2/apps/app-test?force=true", json={"instances": len(tasks)}, auth=marathon_auth(), timeout=10
        )
        mesos("POST", "/machine/up", json=[machine])
    assert mesos("GET", "/maintenance/status").json() == {"draining_machines": [], "down_machines": []}
    wait_for(lambda: host in active_agents(), timeout=30, interval=0.5)
    # Left as found: the extra instance gone (after its drain and kill grace).
    wait_for(lambda: len(app_tasks()) == len(tasks), timeout=60, interval=1)
