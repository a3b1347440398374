"""The stand-in's answers have Marathon's and Mesos' shapes (lab/standin/shapes.py).

Apps and groups are checked against Marathon's own JSON schemas (v1.7.236, the last that
shipped them) with the read-only fields of an AppInfo / group answer taken off; the rest
against the field lists in shapes.py.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from standin import shapes

from .conftest import REFERENCE, Cluster, web_app

SCHEMAS = REFERENCE / "schema" / "v1.7.236"

pytestmark = [
    pytest.mark.shared_reference,
    pytest.mark.skipif(not SCHEMAS.exists(), reason=f"{SCHEMAS} is absent (../shared/reference)"),
]


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft4Validator]:
    schemas = {name: json.loads((SCHEMAS / f"{name}.json").read_text()) for name in ("AppDefinition", "Group")}
    # Group.json names its apps "./AppDefinition.json", relative to its own id.
    uris = {
        "Group": schemas["Group"]["id"],
        "AppDefinition": urllib.parse.urljoin(schemas["Group"]["id"], "AppDefinition.json"),
    }
    draft4 = referencing.jsonschema.DRAFT4
    registry = referencing.Registry().with_resources(
        (uris[name], referencing.Resource.from_contents(schema, default_specification=draft4))
        for name, schema in schemas.items()
    )
    return {name: jsonschema.Draft4Validator(schema, registry=registry) for name, schema in schemas.items()}


def definition(app: dict) -> dict:
    """An AppInfo without what AppInfo adds: the AppDefinition Marathon's schema describes."""
    return {k: v for k, v in app.items() if k not in shapes.APP_INFO_FIELDS}


def group_definition(group: dict) -> dict:
    return {k: v for k, v in group.items() if k not in shapes.GROUP_INFO_FIELDS} | {
        "apps": [definition(app) for app in group["apps"]],
        "groups": [group_definition(sub) for sub in group["groups"]],
    }


def schema_errors(validator: jsonschema.Draft4Validator, doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def deployed(cluster: Cluster) -> dict:
    """One plain app, one group of two dependent apps and one app that cannot launch (it queues)."""
    suffix = uuid.uuid4().hex[:6]
    app = web_app(f"/shape-{suffix}", instances=1, constraints=[])
    group = {
        "id": f"/shapes-{suffix}",
        "apps": [web_app("db", 1, constraints=[]), web_app("web", 1, constraints=[], dependencies=["db"])],
    }
    stuck = web_app(f"/stuck-{suffix}", instances=1, constraints=[["env", "CLUSTER", "nowhere"]])
    deployments = []
    for path, body in (("/v2/apps", app), ("/v2/groups", group), ("/v2/apps", stuck)):
        answer = cluster.api("POST", path, json=body)
        assert answer.status_code == 201, answer.text
        deployments.append(answer.headers["Marathon-Deployment-Id"])
    for deployment in deployments[:2]:
        cluster.api.wait_deployed(deployment, 60)
    # The stuck app's deployment stays: its app cannot launch anywhere.
    yield {"app": app["id"], "group": group["id"], "stuck": stuck["id"], "deployment": deployments[2]}
    for path in (f"/v2/apps{app['id']}", f"/v2/groups{group['id']}", f"/v2/apps{stuck['id']}?force=true"):
        cluster.api("DELETE", path)


def test_apps_are_app_definitions_plus_app_info(cluster: Cluster, deployed: dict, validators: dict) -> None:
    deployment = next(d for d in cluster.api("GET", "/v2/deployments").json() if d["id"] == deployed["deployment"])
    assert not shapes.problems(deployment, shapes.MARATHON_DEPLOYMENT)
    apps = cluster.api("GET", "/v2/apps?embed=apps.tasks").json()["apps"]
    single = cluster.api.app(deployed["app"])
    version = cluster.api("GET", f"/v2/apps{deployed['app']}/versions/{single['version']}").json()
    queued = [e["app"] for e in cluster.api("GET", "/v2/queue").json()["queue"]]
    assert {deployed["app"], f"{deployed['group']}/web", deployed["stuck"]} <= {a["id"] for a in apps}
    assert deployed["stuck"] in [a["id"] for a in queued]
    for app in [*apps, single, version, *queued]:
        assert not schema_errors(validators["AppDefinition"], definition(app)), app["id"]
    tasks = [task for app in apps for task in app.get("tasks", [])]
    assert tasks
    for task in tasks + cluster.api("GET", "/v2/tasks").json()["tasks"]:
        assert not shapes.problems(task, shapes.MARATHON_TASK)
        for result in task.get("healthCheckResults", []):
            assert not shapes.problems(result, shapes.MARATHON_HEALTH_RESULT)
    for entry in cluster.api("GET", "/v2/queue").json()["queue"]:
        assert not shapes.problems(entry, shapes.MARATHON_QUEUE_ENTRY)


def test_groups_are_groups_plus_pods(cluster: Cluster, deployed: dict, validators: dict) -> None:
    for path in ("/v2/groups", f"/v2/groups{deployed['group']}", "/v2/groups?embed=group.apps.tasks"):
        group = cluster.api("GET", path).json()
        assert not schema_errors(validators["Group"], group_definition(group)), path
    mine = cluster.api("GET", f"/v2/groups{deployed['group']}").json()
    assert [a["id"] for a in mine["apps"]] == [f"{deployed['group']}/db", f"{deployed['group']}/web"]


def test_info_and_metrics(cluster: Cluster) -> None:
    assert not shapes.problems(cluster.api("GET", "/v2/info").json(), shapes.MARATHON_INFO)
    assert not shapes.problems(cluster.api("GET", "/metrics").json(), shapes.MARATHON_METRICS)


def test_mesos_answers_have_mesos_fields(cluster: Cluster, deployed: dict) -> None:
    def get(path: str) -> dict:
        answer = cluster.api.session.get(f"http://127.0.0.1:{cluster.mesos_port}{path}", timeout=10)
        assert answer.status_code == 200, f"{path}: {answer.text}"
        return answer.json()

    state = get("/master/state")
    assert not shapes.problems(state, shapes.MESOS_STATE)
    assert state["slaves"] and state["frameworks"]
    found = []
    for slave in state["slaves"] + get("/master/slaves")["slaves"]:
        found += shapes.problems(slave, shapes.MESOS_SLAVE, f"slave {slave.get('id')}")
        for field in ("resources", "used_resources", "offered_resources"):
            found += shapes.problems(slave[field], shapes.MESOS_RESOURCES, f"slave {slave['id']}/{field}")
    for framework in state["frameworks"] + get("/master/frameworks")["frameworks"]:
        found += shapes.problems(framework, shapes.MESOS_FRAMEWORK, f"framework {framework.get('id')}")
    tasks = get("/master/tasks")["tasks"]
    assert tasks
    for task in tasks:
        found += shapes.problems(task, shapes.MESOS_TASK, f"task {task.get('id')}")
        found += shapes.problems(task["resources"], shapes.MESOS_RESOURCES, f"task {task['id']}/resources")
    summary = get("/master/state-summary")
    for slave in summary["slaves"]:
        found += shapes.problems(slave, shapes.MESOS_SUMMARY_SLAVE, "summary slave")
    for framework in summary["frameworks"]:
        found += shapes.problems(framework, shapes.MESOS_SUMMARY_FRAMEWORK, "summary framework")
    found += shapes.problems(get("/maintenance/status"), shapes.MESOS_MAINTENANCE_STATUS)
    assert not found
