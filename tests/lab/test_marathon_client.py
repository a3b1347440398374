"""
An independent Marathon client library (PyPI `marathon`, the client its Python users use) drives
the lab's Marathon end to end: lists, event stream, create, scale, restart, kill with scale, delete.
"""

from __future__ import annotations

import collections
import collections.abc
import importlib
import pathlib
import sys
import threading
import uuid

import pytest
import requests
import yaml

from .conftest import BY_FQDN, PLATFORM, REGISTRY, REPO, marathon_auth, wait_for

APP = yaml.safe_load((REPO / "pillar" / "app.sls").read_text())["app"]
# The app's image is on the registry after `make up`; here it only sleeps.
IMAGE = f"{REGISTRY['pull']}/platform/app:{APP['version']}"


def _client_library():
    """
    PyPI's marathon, not _modules/marathon.py (the platform's Salt module of that name, which
    pytest's pythonpath puts first); whatever `marathon` meant before is left as it was.
    """
    # marathon 0.13 (its last release) tests isinstance(x, collections.Iterable), gone since Python 3.10.
    collections.Iterable = collections.abc.Iterable  # type: ignore[attr-defined]
    modules = str(REPO / "_modules")
    before, path = sys.modules.pop("marathon", None), list(sys.path)
    sys.path[:] = [entry for entry in sys.path if pathlib.Path(entry or ".").resolve() != pathlib.Path(modules)]
    try:
        return importlib.import_module("marathon")
    finally:
        sys.path[:] = path
        if before is not None:
            sys.modules["marathon"] = before


marathon = _client_library()


@pytest.fixture(scope="module")
def client() -> marathon.MarathonClient:
    """A client of the leading Marathon (the library follows the event stream's redirect by host name)."""
    auth = marathon_auth()
    mm1 = f"http://{PLATFORM['nodes']['mm1']['ip']}:8080"
    leader = requests.get(f"{mm1}/v2/leader", auth=auth, timeout=5).json()["leader"]
    host, port = leader.split(":")
    return marathon.MarathonClient(f"http://{BY_FQDN[host]}:{port}", username=auth[0], password=auth[1])


def settled(client: marathon.MarathonClient, app_id: str) -> None:
    wait_for(lambda: not [d for d in client.list_deployments() if app_id in d.affected_apps], timeout=90, interval=0.5)


def test_the_client_lists_what_the_lab_runs(client):
    apps = {app.id: app for app in client.list_apps(embed_tasks=True)}
    assert {"/app-test", "/app-production"} <= set(apps)
    assert apps["/app-test"].tasks_running == APP["environments"]["test"]["instances"]
    assert {task.app_id for task in client.list_tasks()} >= {"/app-test", "/app-production"}
    assert client.list_queue() == [] and isinstance(client.list_deployments(), list)
    assert client.get_info().elected is True and client.get_leader()["leader"]
    assert client.get_metrics()["gauges"]["marathon.apps.active.gauge"]["value"] >= 2
    # The library asks for JSON, to which Marathon answers "pong" as a JSON string.
    assert client.ping() == b'"pong"'


def test_the_client_deploys_scales_restarts_kills_and_deletes_an_app(client):
    group = f"/lab-client-{uuid.uuid4().hex[:6]}"
    app_id = f"{group}/sleeper"
    events: list = []
    threading.Thread(
        target=lambda: events.extend(client.event_stream(event_types=["deployment_success", "status_update_event"])),
        daemon=True,
    ).start()  # the stream never ends: the thread dies with the test run
    app = marathon.MarathonApp(
        cmd="sleep 3600",
        cpus=0.1,
        mem=32,
        instances=1,
        container=marathon.models.container.MarathonContainer(
            type="DOCKER", docker=marathon.models.container.MarathonDockerContainer(image=IMAGE, network="BRIDGE")
        ),
        constraints=[["env", "CLUSTER", "test"]],
    )
    created = client.create_app(app_id, app)
    try:
        assert created.id == app_id
        settled(client, app_id)
        assert group in [g.id for g in client.list_groups()]
        assert client.get_app(app_id).tasks_running == 1

        client.scale_app(app_id, instances=3)
        settled(client, app_id)
        wait_for(lambda: client.get_app(app_id).tasks_running == 3, timeout=60, interval=0.5)

        before = {task.id for task in client.list_tasks(app_id)}
        client.restart_app(app_id)
        settled(client, app_id)
        assert not before & {task.id for task in client.list_tasks(app_id)}, "a restart replaces every task"

        victim = client.list_tasks(app_id)[0]
        client.kill_given_tasks([victim.id], scale=True)
        settled(client, app_id)
        assert client.get_app(app_id).instances == 2
        assert victim.id not in {task.id for task in client.list_tasks(app_id)}
    finally:
        client.delete_app(app_id, force=True)
    wait_for(lambda: app_id not in {a.id for a in client.list_apps()}, timeout=30, interval=0.5)
    seen = [(type(event).__name__, getattr(event, "app_id", None)) for event in list(events)]
    assert ("MarathonDeploymentSuccess", None) in seen
    assert ("MarathonStatusUpdateEvent", app_id) in seen


def test_the_client_deploys_scales_and_deletes_a_group_in_dependency_order(client):
    group_id = f"/lab-group-{uuid.uuid4().hex[:6]}"

    def sleeper(name: str, **fields) -> marathon.MarathonApp:
        docker = marathon.models.container.MarathonDockerContainer(image=IMAGE, network="BRIDGE")
        container = marathon.models.container.MarathonContainer(type="DOCKER", docker=docker)
        return marathon.MarathonApp(
            id=name, cmd="sleep 3600", cpus=0.1, mem=32, instances=1, container=container,
            constraints=[["env", "CLUSTER", "test"]], **fields,
        )  # fmt: skip

    group = marathon.models.group.MarathonGroup(id=group_id, apps=[sleeper("db"), sleeper("web", dependencies=["db"])])
    created = client.create_group(group)
    try:
        wait_for(lambda: created["deploymentId"] not in {d.id for d in client.list_deployments()}, timeout=90)
        tasks = {app.id: app.tasks for app in client.get_group(group_id).apps}
        assert set(tasks) == {f"{group_id}/db", f"{group_id}/web"}
        db_started = min(t.started_at for t in client.list_tasks(f"{group_id}/db"))
        assert all(t.staged_at >= db_started for t in client.list_tasks(f"{group_id}/web")), "web waits for db"

        scaled = client.scale_group(group_id, scale_by=2)
        wait_for(lambda: scaled["deploymentId"] not in {d.id for d in client.list_deployments()}, timeout=90)
        assert [client.get_app(a).instances for a in sorted(tasks)] == [2, 2]
    finally:
        deleted = client.delete_group(group_id, force=True)
    wait_for(lambda: deleted["deploymentId"] not in {d.id for d in client.list_deployments()}, timeout=60)
    assert not [app.id for app in client.list_apps() if app.id.startswith(group_id + "/")]
