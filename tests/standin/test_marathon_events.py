"""GET /v2/events: Marathon's server-sent event stream, as marathon-lb and Traefik follow it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.event_stream import EventStream

from .conftest import Cluster, web_app


@pytest.fixture
def stream(cluster: Cluster) -> Iterator[EventStream]:
    client = EventStream(f"http://127.0.0.1:{cluster.marathon_port}")
    yield client
    client.close()


def test_a_deployment_is_followed_from_the_post_to_its_success(cluster: Cluster, stream: EventStream) -> None:
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    first_type, attached = stream.until(lambda *_: True)[0]
    assert first_type == attached["eventType"] == "event_stream_attached" and attached["remoteAddress"] == "127.0.0.1"

    app_id = f"/events-{uuid.uuid4().hex[:6]}"
    answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=1))
    deployment_id = answer.headers["Marathon-Deployment-Id"]
    seen = stream.until(lambda kind, event: kind == "deployment_success" and event["id"] == deployment_id)
    by_type: dict[str, list[dict]] = {}
    for kind, event in seen:
        assert event["eventType"] == kind and event["timestamp"].endswith("Z")
        by_type.setdefault(kind, []).append(event)
    (posted,) = by_type["api_post_event"]
    assert posted["appDefinition"]["id"] == app_id and posted["uri"] == "/v2/apps" and posted["clientIp"] == "127.0.0.1"
    info = by_type["deployment_info"][0]
    # Light events, as Marathon has sent only since 1.8: the plan's steps, not its groups.
    assert info["plan"]["id"] == deployment_id and "target" not in info["plan"]
    assert info["currentStep"] == {"actions": [{"action": "StartApplication", "app": app_id}]}
    assert [e["currentStep"]["actions"][0]["action"] for e in by_type["deployment_step_success"]] == [
        "StartApplication",
        "ScaleApplication",
    ]
    statuses = [(e["appId"], e["taskStatus"]) for e in by_type["status_update_event"]]
    assert statuses[:2] == [(app_id, "TASK_STAGING"), (app_id, "TASK_RUNNING")]
    task = cluster.api.app(app_id)["tasks"][0]
    running = by_type["status_update_event"][1]
    assert (running["taskId"], running["host"], running["ports"]) == (task["id"], task["host"], task["ports"])
    (healthy,) = by_type["health_status_changed_event"]
    assert (healthy["appId"], healthy["alive"], healthy["instanceId"]) == (app_id, True, task["id"])
    # The order Marathon keeps: asked, planned, launched, running and healthy, done.
    kinds = [kind for kind, _ in seen]
    assert kinds.index("api_post_event") < kinds.index("deployment_info") < kinds.index("status_update_event")
    assert kinds.index("health_status_changed_event") < kinds.index("deployment_success")

    deleted = cluster.api("DELETE", f"/v2/apps{app_id}")
    stopped = stream.until(
        lambda kind, event: kind == "deployment_success" and event["id"] == deleted.json()["deploymentId"]
    )
    assert ("status_update_event", "TASK_KILLED") in [(k, e.get("taskStatus")) for k, e in stopped]
    assert ("app_terminated_event", app_id) in [(k, e.get("appId")) for k, e in stopped]


def test_the_event_type_filter_passes_only_what_was_asked_for(cluster: Cluster) -> None:
    filtered = EventStream(f"http://127.0.0.1:{cluster.marathon_port}", "?event_type=deployment_success")
    try:
        app_id = f"/filtered-{uuid.uuid4().hex[:6]}"
        answer = cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=0, healthChecks=[]))
        deployment_id = answer.headers["Marathon-Deployment-Id"]
        seen = filtered.until(lambda kind, event: event.get("id") == deployment_id)
        assert {kind for kind, _ in seen} == {"deployment_success"}
        cluster.api("DELETE", f"/v2/apps{app_id}")
    finally:
        filtered.close()


def test_a_client_that_does_not_ask_for_an_event_stream_is_refused(cluster: Cluster) -> None:
    answer = requests.get(
        f"http://127.0.0.1:{cluster.marathon_port}/v2/events", headers={"Accept": "application/json"}, timeout=5
    )
    assert answer.status_code == 405


def test_a_non_leader_redirects_the_stream_to_the_leader(zk_cluster: Cluster) -> None:
    follower = zk_cluster.start_follower()
    leader = f"master-1.localdomain:{zk_cluster.marathon_port}"
    relayed = EventStream(
        f"http://127.0.0.1:{follower.port}", "?event_type=api_post_event&event_type=deployment_success",
        resolve={"master-1.localdomain": "127.0.0.1"},
    )  # fmt: skip
    try:
        assert relayed.redirects == [
            f"http://{leader}/v2/events?event_type=api_post_event&event_type=deployment_success"
        ]
        assert relayed.status == 200
        app_id = f"/relayed-{uuid.uuid4().hex[:6]}"
        answer = zk_cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=0, healthChecks=[]))
        deployment_id = answer.headers["Marathon-Deployment-Id"]
        seen = relayed.until(lambda kind, event: kind == "deployment_success" and event["id"] == deployment_id)
        assert ("api_post_event", app_id) in [(k, e.get("appDefinition", {}).get("id")) for k, e in seen]
    finally:
        relayed.close()
        follower.stop()
