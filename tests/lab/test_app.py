"""Notejam on the lab through the VIP: deploys, scaling, rollbacks, and the data that survives them."""

from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest
import requests
import yaml

from tests.event_stream import EventStream

from .conftest import (
    BY_FQDN,
    PLATFORM,
    REGISTRY,
    REPO,
    app_page,
    marathon_auth,
    node_exec,
    salt_run,
    wait_for,
)
from .load import Browser, SteadyLoad

APP = yaml.safe_load((REPO / "pillar" / "app.sls").read_text())["app"]
# As the image builder (the registry node) names it: it pushes.
IMAGE = f"{REGISTRY['push']}/platform/app"
MARATHON = f"http://{PLATFORM['nodes']['mm1']['ip']}:8080"
# Another tag of the same sources, for the redeploy; and a tag that never becomes healthy.
NEXT = f"{APP['version']}-next"
BROKEN = f"{APP['version']}-hangs"
SERVED_FROM = re.compile(r"Environment: ([^,<\s]+), Served from: ([^<\s]+)")


def result_of(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def footer(env: str) -> tuple[str, str]:
    status, page = app_page(env, "/signin", timeout=5)
    assert status == 200, page
    match = SERVED_FROM.search(page)
    assert match, page
    return match.group(1), match.group(2)


def marathon_apps() -> dict[str, str]:
    return {
        app["id"]: app["version"]
        for app in requests.get(f"{MARATHON}/v2/apps", auth=marathon_auth(), timeout=5).json()["apps"]
    }


def containers_on(node: str) -> set[str]:
    """Short ids of the containers running on a node: a container's hostname by default."""
    return set(node_exec(node, "docker ps --format '{{.ID}}'").stdout.split())


def upstreams(env: str) -> int:
    """Servers in lb1's nginx upstream of app-<env>, as consul-template wrote it."""
    config = node_exec("lb1", "docker exec platform-lb cat /etc/nginx/conf.d/platform-lb.conf").stdout
    block = re.search(rf"upstream app-{env} {{(.*?)}}", config, re.S)
    return len(re.findall(r"^\s*server ", block.group(1), re.M)) if block else 0


@pytest.fixture(scope="module", autouse=True)
def deployed():
    """Both environments run pillar app:version (make up deployed them; this changes nothing then)."""
    for env in PLATFORM["environments"]:
        proc = salt_run("app.deploy", f"env={env}", f"version={APP['version']}")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_app_test_through_the_vip_is_notejam_served_from_several_containers():
    answers = [footer("test") for _ in range(20)]
    assert {env for env, _ in answers} == {"test"}
    assert len({host for _, host in answers}) >= 2


def test_app_production_is_served_only_by_containers_on_ms3_and_ms4():
    served = {footer("production")[1] for _ in range(20)}
    production = containers_on("ms3") | containers_on("ms4")
    assert served <= production, f"{served - production} are not containers of ms3/ms4"
    assert not served & (containers_on("ms1") | containers_on("ms2"))


def test_an_unknown_environment_is_refused_with_a_clear_message_and_changes_nothing():
    before = marathon_apps()
    proc = salt_run("app.deploy", "env=nope")
    assert proc.returncode != 0
    assert "unknown environment 'nope': pillar platform:environments has test, production" in proc.stdout
    assert marathon_apps() == before


def test_a_tag_missing_from_the_registry_is_refused_and_changes_nothing():
    before = marathon_apps()
    proc = salt_run("app.deploy", "env=test", "version=0.0.0-missing")
    assert proc.returncode != 0
    assert "app:0.0.0-missing is not in the registry; nothing was deployed" in proc.stdout
    assert marathon_apps() == before


def test_notes_survive_a_redeploy_and_a_rollback():
    user = Browser("test")
    email, note = f"{uuid.uuid4().hex[:10]}@example.org", f"survives {uuid.uuid4().hex[:8]}"
    assert user.submit("/signup", email=email, password="pw-lab-1", confirm_password="pw-lab-1").ok
    assert user.submit("/signin", email=email, password="pw-lab-1").ok
    assert user.submit("/notes/create", name=note, text="kept on the shared storage", pad_id="").ok
    assert note in user.get("/").text

    assert salt_run("app.build", f"version={NEXT}").returncode == 0
    # What marathon-lb or Traefik would see of the deploy: Marathon's event stream, asked of mm1
    # (which sends a client to the leader when it does not lead).
    events = EventStream(MARATHON, resolve=BY_FQDN, auth=marathon_auth())
    try:
        with SteadyLoad("test") as load:
            proc = salt_run("app.deploy", "env=test", f"version={NEXT}")
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert load.failures == [], f"{len(load.failures)} of {load.count} requests failed during the deploy"
        seen = events.until(lambda kind, event: kind == "deployment_success" and rolled_out_to(event, "/app-test"))
    finally:
        events.close()
    assert seen[0][0] == "event_stream_attached" and "deployment_info" in [kind for kind, _ in seen]
    statuses = {(event["appId"], event["taskStatus"]) for kind, event in seen if kind == "status_update_event"}
    assert {("/app-test", "TASK_RUNNING"), ("/app-test", "TASK_KILLED")} <= statuses
    page = user.get("/")
    assert page.headers["X-Notejam-Version"] == NEXT
    assert note in page.text

    rollback = salt_run("app.rollback", "env=test")
    assert rollback.returncode == 0, rollback.stdout[-3000:]
    assert result_of(rollback)["version"] == APP["version"]
    page = user.get("/")
    assert page.headers["X-Notejam-Version"] == APP["version"]
    assert note in page.text


def rolled_out_to(event: dict, app_id: str) -> bool:
    """A deployment event whose plan acts on ``app_id`` (plans are light since Marathon 1.8: steps, no groups)."""
    return any(action["app"] == app_id for step in event["plan"]["steps"] for action in step["actions"])


def test_scaling_test_to_5_puts_5_upstreams_in_nginx():
    """How fast is benchmarks/app_deploy.py's business ("scaled to 5, in nginx after"); this checks that it happens."""
    assert salt_run("app.scale", "env=test", "instances=5").returncode == 0
    wait_for(lambda: upstreams("test") == 5, timeout=60, interval=0.5)
    back = salt_run("app.scale", "env=test", f"instances={APP['environments']['test']['instances']}")
    assert back.returncode == 0, back.stdout[-3000:]
    wait_for(lambda: upstreams("test") == APP["environments"]["test"]["instances"], timeout=60, interval=0.5)


def test_a_version_failing_its_health_check_is_rolled_back_and_the_old_one_keeps_serving():
    # The same app, but its process never answers: a release that hangs at start.
    dockerfile = f'FROM {IMAGE}:{APP["version"]}\\nCMD ["sleep", "infinity"]\\n'
    build = node_exec(
        "registry", f"printf '{dockerfile}' | docker build -q -t {IMAGE}:{BROKEN} - && docker push -q {IMAGE}:{BROKEN}"
    )
    assert build.returncode == 0, build.stdout + build.stderr
    with SteadyLoad("test") as load:
        proc = salt_run("app.deploy", "env=test", f"version={BROKEN}")
    assert proc.returncode == 1, proc.stdout[-3000:]
    comment = result_of(proc)["comment"]
    assert f"deploy of app:{BROKEN} to test failed" in comment
    assert f"rolled back to app:{APP['version']}" in comment
    assert load.failures == [], f"{len(load.failures)} of {load.count} requests failed during the failed deploy"
    assert load.versions == {APP["version"]}
    assert footer("test")[0] == "test"
