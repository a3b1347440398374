"""Marathon's groups, task-killing, queue, metrics and leadership endpoints, as client libraries and CLIs call them."""

from __future__ import annotations

import uuid

from .conftest import Cluster, wait_until, web_app


def unique_id(name: str) -> str:
    return f"/{name}-{uuid.uuid4().hex[:6]}"


def running(cluster: Cluster, app: dict) -> dict:
    answer = cluster.api("POST", "/v2/apps", json=app)
    assert answer.status_code == 201, answer.text
    cluster.api.wait_deployed(answer.headers["Marathon-Deployment-Id"])
    return cluster.api.app(app["id"])


def test_killing_an_apps_tasks_on_a_host_with_scale_lowers_its_instances(cluster: Cluster) -> None:
    app = running(cluster, web_app(unique_id("kill-host"), instances=2, healthChecks=[], constraints=[]))
    victim = app["tasks"][0]
    on_host = [t["id"] for t in app["tasks"] if t["host"] == victim["host"]]
    answer = cluster.api("DELETE", f"/v2/apps{app['id']}/tasks?host={victim['host']}&scale=true")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Marathon-Deployment-Id"] == answer.json()["deploymentId"]
    cluster.api.wait_deployed(answer.json()["deploymentId"])
    after = cluster.api.app(app["id"])
    assert after["instances"] == 2 - len(on_host)
    assert not {t["id"] for t in after["tasks"]} & set(on_host)
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_killing_without_scale_returns_the_tasks_and_marathon_replaces_them(cluster: Cluster) -> None:
    app = running(cluster, web_app(unique_id("kill-all"), instances=1, healthChecks=[], constraints=[]))
    answer = cluster.api("DELETE", f"/v2/apps{app['id']}/tasks")
    assert answer.status_code == 200, answer.text
    assert [t["id"] for t in answer.json()["tasks"]] == [app["tasks"][0]["id"]]
    wait_until(
        lambda: (
            [t["id"] for t in cluster.api.app(app["id"])["tasks"] if t["state"] == "TASK_RUNNING"]
            not in ([], [app["tasks"][0]["id"]])
        ),
        30,
        what="a replacement task",
    )
    assert cluster.api.app(app["id"])["instances"] == 1
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_tasks_delete_scales_several_apps_in_one_deployment(cluster: Cluster) -> None:
    first = running(cluster, web_app(unique_id("bulk-a"), instances=1, healthChecks=[], constraints=[]))
    second = running(cluster, web_app(unique_id("bulk-b"), instances=2, healthChecks=[], constraints=[]))
    ids = [first["tasks"][0]["id"], second["tasks"][0]["id"], "no-such-task"]
    refused = cluster.api("POST", "/v2/tasks/delete?scale=true&wipe=true", json={"ids": ids})
    assert (refused.status_code, refused.json()["message"]) == (400, "You cannot use scale and wipe at the same time.")
    assert cluster.api("POST", "/v2/tasks/delete", json={"tasks": ids}).status_code == 400
    answer = cluster.api("POST", "/v2/tasks/delete?scale=true", json={"ids": ids})
    assert answer.status_code == 200, answer.text
    deployment_id = answer.json()["deploymentId"]
    (deployment,) = [d for d in cluster.api("GET", "/v2/deployments").json() if d["id"] == deployment_id] or [None]
    if deployment is not None:  # it may already be done
        assert sorted(deployment["affectedApps"]) == sorted([first["id"], second["id"]])
    cluster.api.wait_deployed(deployment_id)
    assert (cluster.api.app(first["id"])["instances"], cluster.api.app(second["id"])["instances"]) == (0, 1)
    for app in (first, second):
        cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_the_queue_lists_what_cannot_launch_and_its_delay_can_be_reset(cluster: Cluster) -> None:
    app = web_app(unique_id("queued"), instances=2, healthChecks=[], constraints=[["env", "CLUSTER", "nowhere"]])
    assert cluster.api("POST", "/v2/apps", json=app).status_code == 201
    wait_until(lambda: cluster.api("GET", "/v2/queue").json()["queue"], 10, what="the app in the queue")
    (entry,) = [e for e in cluster.api("GET", "/v2/queue").json()["queue"] if e["app"]["id"] == app["id"]]
    assert entry["count"] == 2 and set(entry["delay"]) == {"timeLeftSeconds", "overdue"}
    assert cluster.api("DELETE", f"/v2/queue{app['id']}/delay").status_code == 204
    missing = cluster.api("DELETE", "/v2/queue/not-queued/delay")
    assert (missing.status_code, missing.json()) == (
        404,
        {"message": "Application /not-queued not found in tasks queue."},
    )
    cluster.api("DELETE", f"/v2/apps{app['id']}?force=true")


def test_delete_leader_hands_the_leadership_to_another_marathon(zk_cluster: Cluster) -> None:
    from .conftest import MarathonClient

    follower = zk_cluster.start_follower()
    try:
        answer = zk_cluster.api("DELETE", "/v2/leader")
        assert (answer.status_code, answer.json()) == (200, {"message": "Leadership abdicated"})
        second = MarathonClient(f"http://127.0.0.1:{follower.port}")
        wait_until(lambda: second("GET", "/v2/info").json()["elected"], 20, what="the other Marathon to lead")
        assert zk_cluster.api("GET", "/v2/leader").json() == {"leader": f"master-2.localdomain:{follower.port}"}
        assert zk_cluster.api("GET", "/v2/info").json()["elected"] is False
    finally:
        follower.stop()


def test_groups_are_the_tree_of_the_app_ids(cluster: Cluster) -> None:
    top = unique_id("grp")
    ids = [f"{top}/web", f"{top}/sub/api"]
    for app_id in ids:
        assert cluster.api("POST", "/v2/apps", json=web_app(app_id, instances=0, healthChecks=[])).status_code == 201
    root = cluster.api("GET", "/v2/groups").json()
    assert root["id"] == "/" and {"apps", "groups", "pods", "dependencies", "version"} <= set(root)
    (group,) = [g for g in root["groups"] if g["id"] == top]
    assert [a["id"] for a in group["apps"]] == [f"{top}/web"]
    assert [(g["id"], [a["id"] for a in g["apps"]]) for g in group["groups"]] == [(f"{top}/sub", [f"{top}/sub/api"])]
    sub = cluster.api("GET", f"/v2/groups{top}/sub?embed=group.apps.tasks").json()
    assert sub["id"] == f"{top}/sub" and sub["apps"][0]["tasks"] == []
    missing = cluster.api("GET", "/v2/groups/no-such-group")
    assert (missing.status_code, missing.json()) == (404, {"message": "Group '/no-such-group' does not exist"})
    for app_id in ids:
        cluster.api("DELETE", f"/v2/apps{app_id}")


def test_metrics_count_apps_and_instances(cluster: Cluster) -> None:
    app = running(cluster, web_app(unique_id("metered"), instances=1, healthChecks=[], constraints=[]))
    answer = cluster.api("GET", "/metrics")
    assert answer.status_code == 200
    gauges = answer.json()["gauges"]
    apps = cluster.api("GET", "/v2/apps").json()["apps"]
    assert gauges["marathon.apps.active.gauge"]["value"] == len(apps)
    running_tasks = [t for t in cluster.api("GET", "/v2/tasks").json()["tasks"] if t["state"] == "TASK_RUNNING"]
    assert gauges["marathon.instances.running.gauge"]["value"] == len(running_tasks) >= 1
    assert gauges["marathon.uptime.gauge.seconds"]["value"] >= 0
    cluster.api("DELETE", f"/v2/apps{app['id']}")


def test_a_group_starts_each_app_after_the_apps_it_depends_on(cluster: Cluster) -> None:
    top = unique_id("stack")
    db = web_app("db", instances=1, constraints=[])
    web = web_app("web", instances=1, constraints=[], dependencies=["db"])
    answer = cluster.api("POST", "/v2/groups", json={"id": top, "apps": [web, db]})
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == top
    deployment_id = answer.json()["deploymentId"]
    (plan,) = [d for d in cluster.api("GET", "/v2/deployments").json() if d["id"] == deployment_id]
    steps = [[(a["action"], a["app"]) for a in step["actions"]] for step in plan["steps"]]
    assert steps == [
        [("StartApplication", f"{top}/db"), ("StartApplication", f"{top}/web")],
        [("ScaleApplication", f"{top}/db")],
        [("ScaleApplication", f"{top}/web")],
    ]
    cluster.api.wait_deployed(deployment_id, timeout=60)
    (db_task,) = cluster.api.app(f"{top}/db")["tasks"]
    (web_task,) = cluster.api.app(f"{top}/web")["tasks"]
    # web launched only once db answered its health check.
    assert web_task["stagedAt"] >= db_task["healthCheckResults"][0]["firstSuccess"]
    assert cluster.api.app(f"{top}/web")["dependencies"] == [f"{top}/db"]

    again = cluster.api("POST", "/v2/groups", json={"id": top})
    assert (again.status_code, again.json()) == (
        409,
        {"message": f"Group {top} is already created. Use PUT to change this group."},
    )
    cluster.api("DELETE", f"/v2/groups{top}")


def test_put_makes_the_group_what_the_body_says_and_delete_stops_it(cluster: Cluster) -> None:
    top = unique_id("tree")
    one, two = (
        web_app("one", instances=1, constraints=[], healthChecks=[]),
        web_app("two", instances=1, healthChecks=[]),
    )
    two["constraints"] = []
    created = cluster.api(
        "POST", "/v2/groups", json={"id": top, "apps": [one], "groups": [{"id": "inner", "apps": [two]}]}
    )
    cluster.api.wait_deployed(created.json()["deploymentId"])
    assert cluster.api.app(f"{top}/inner/two")["instances"] == 1

    scaled = cluster.api("PUT", f"/v2/groups{top}", json={"scaleBy": 2})
    assert scaled.status_code == 200, scaled.text
    cluster.api.wait_deployed(scaled.json()["deploymentId"])
    assert [cluster.api.app(a)["instances"] for a in (f"{top}/one", f"{top}/inner/two")] == [2, 2]

    # The body's "groups" no longer has inner: it goes; "one" is changed (a restart), "three" is new.
    body = {
        "id": top,
        "dependencies": ["/elsewhere"],
        "apps": [dict(one, env={"RELEASE": "2"}), web_app("three", instances=1, constraints=[], healthChecks=[])],
        "groups": [],
    }
    changed = cluster.api("PUT", f"/v2/groups{top}", json=body)
    assert changed.status_code == 200, changed.text
    cluster.api.wait_deployed(changed.json()["deploymentId"])
    group = cluster.api("GET", f"/v2/groups{top}").json()
    assert (group["dependencies"], group["groups"]) == (["/elsewhere"], [])
    assert sorted(a["id"] for a in group["apps"]) == [f"{top}/one", f"{top}/three"]
    assert cluster.api("GET", f"/v2/apps{top}/inner/two").status_code == 404
    assert cluster.api.app(f"{top}/one")["env"] == {"RELEASE": "2"}
    wait_until(
        lambda: not cluster.containers(**{"standin.app-id": f"{top}/inner/two"}),
        20,
        what="inner/two's container to stop",
    )

    deleted = cluster.api("DELETE", f"/v2/groups{top}")
    assert deleted.status_code == 200, deleted.text
    cluster.api.wait_deployed(deleted.json()["deploymentId"])
    assert cluster.api("GET", f"/v2/groups{top}").status_code == 404
    assert not [a for a in cluster.api("GET", "/v2/apps").json()["apps"] if a["id"].startswith(top + "/")]


def test_bad_groups_are_refused_and_change_nothing(cluster: Cluster) -> None:
    top = unique_id("bad")
    cycle = {"id": top, "apps": [web_app("a", dependencies=["b"]), web_app("b", dependencies=["a"])]}
    answer = cluster.api("POST", "/v2/groups", json=cycle)
    assert (answer.status_code, answer.json()["details"][0]["errors"]) == (
        422,
        ["Dependency graph has cyclic dependencies."],
    )
    invalid = cluster.api("POST", "/v2/groups", json={"id": top, "apps": [web_app("ok"), web_app("neg", instances=-1)]})
    assert invalid.status_code == 422 and invalid.json()["details"][0]["path"].startswith("/apps(1)/")
    outside = cluster.api("POST", "/v2/groups", json={"id": top, "apps": [web_app("/other/app")]})
    assert outside.status_code == 422, outside.text
    assert cluster.api("GET", f"/v2/groups{top}").status_code == 404
    assert cluster.api("DELETE", f"/v2/groups{top}").status_code == 404
