"""The stand-in enforces the masters' --acls as Mesos 1.11's local authorizer does, with its answers.

The ACLs are the platform's (salt/mesos/master.sls): the framework principal registers in any role
and runs tasks as the task user only, the operator principal alone tears frameworks down.
Daemons run as threads on loopback with an engine that has no containers (no Docker needed).
"""

from __future__ import annotations

import json

import pytest
import requests
from standin import acls, web
from standin.__main__ import main
from standin.auth import user_token

from .conftest import wait_until
from .test_authentication import (
    HTTP_FLAGS,
    OPERATOR,
    REGISTRATION_FLAGS,
    call,
    frameworks,
    quick_registrations,  # noqa: F401  (autouse: agents and Marathon re-register every 0.2 s)
    registered_agents,
    start_agent,
    start_marathon,
    start_master,
)

TASK_USER = "platform-task"
FRAMEWORK = ("marathon", "framework-secret")
PLATFORM_ACLS = {
    "permissive": True,
    "register_frameworks": [
        {"principals": {"values": ["marathon"]}, "roles": {"type": "ANY"}},
        {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}},
    ],
    "run_tasks": [
        {"principals": {"values": ["marathon"]}, "users": {"values": [TASK_USER]}},
        {"principals": {"type": "ANY"}, "users": {"type": "NONE"}},
    ],
    "teardown_frameworks": [
        {"principals": {"values": ["operator"]}, "framework_principals": {"type": "ANY"}},
        {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}},
    ],
}
ACLS = acls.parse(json.dumps(PLATFORM_ACLS))


def registration(framework_id: str, user: str = TASK_USER, **fields) -> dict:
    """What a scheduler registers with on the stand-in's wire."""
    return {"id": framework_id, "name": f"probe-{framework_id}", "user": user, "hostname": "probe", "tasks": [],
            **fields}  # fmt: skip


# ------------------------------------------------------------------ the flag


def test_acls_are_read_inline_from_a_file_url_or_a_bare_path(tmp_path) -> None:
    text = json.dumps(PLATFORM_ACLS)
    path = tmp_path / "acls.json"
    path.write_text(text)
    for value in (text, f"file://{path}", str(path)):
        assert acls.parse(value) == ACLS
    assert acls.parse(None) is None
    assert ACLS.permissive is True and len(ACLS.rules["run_tasks"]) == 2


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("{not json", "syntax error"),
        ("[]", "Unexpected JSON type parsed"),
        ('{"run_tasks": [{"principals": {"type": "ANY"}}]}', "Missing required fields: run_tasks[0].users"),
        ('{"run_tasks": {"principals": {"type": "ALL"}, "users": {}}}', "Failed to find enum for 'ALL'"),
        ('{"permissive": "no"}', "Failed to parse 'no' as a JSON boolean for field 'permissive'"),
        ('{"register_frameworks": "marathon"}', "Not expecting a JSON string for field 'register_frameworks'"),
        ('{"run_tasks": [{"principals": {"values": [1]}, "users": {}}]}', "Not expecting a JSON number for field"),
        (
            "file:///nonexistent/acls.json",
            "Error reading file '/nonexistent/acls.json': Failed to open file: No such file or directory",
        ),
    ],
)
def test_acls_mesos_cannot_load_stop_the_master_at_start(tmp_path, capsys, value, error) -> None:
    assert main(["mesos-master", f"--work_dir={tmp_path}", f"--acls={value}"]) == 1
    printed = capsys.readouterr().err
    assert printed.startswith(f"Failed to load flag 'acls': Failed to load value '{value}': ")
    assert error in printed


# ------------------------------------------------------------------ the authorizer


def test_the_first_rule_matching_principal_and_object_decides() -> None:
    assert ACLS.allows("register_frameworks", "marathon", "*")
    assert not ACLS.allows("register_frameworks", "operator", "*")
    assert not ACLS.allows("register_frameworks", None, "*")  # no principal: ANY
    assert ACLS.allows("run_tasks", "marathon", TASK_USER)
    assert not ACLS.allows("run_tasks", "marathon", "root")
    assert not ACLS.allows("run_tasks", "agent", TASK_USER)
    assert ACLS.allows("teardown_frameworks", "operator", "marathon")
    assert ACLS.allows("teardown_frameworks", "operator", None)  # a framework without a principal
    assert not ACLS.allows("teardown_frameworks", "marathon", "marathon")
    assert not ACLS.allows("teardown_frameworks", None, "marathon")


def test_permissive_answers_what_no_rule_matches_and_a_role_ending_in_percent_covers_its_children() -> None:
    strict = acls.parse(
        json.dumps(
            {
                "permissive": False,
                "register_frameworks": [{"principals": {"values": ["dev"]}, "roles": {"values": ["eng/%"]}}],
                "run_tasks": [{"principals": {"values": ["dev"]}, "users": {"values": ["app"]}}],
            }
        )
    )
    assert strict.allows("run_tasks", "dev", "app")
    assert not strict.allows("run_tasks", "dev", "root")
    assert not strict.allows("teardown_frameworks", "operator", "dev")  # no rule for the action at all
    assert strict.allows("register_frameworks", "dev", "eng/web")
    assert strict.allows("register_frameworks", "dev", "eng/web/a")
    assert not strict.allows("register_frameworks", "dev", "eng")
    assert not strict.allows("register_frameworks", "ops", "eng/web")
    assert acls.parse("{}").allows("run_tasks", "anyone", "root")  # permissive by default


# ------------------------------------------------------------------ registrations


def test_a_framework_the_acls_do_not_let_register_is_refused(daemons) -> None:
    master = daemons.add(start_master({}, acls=ACLS))
    for credential in (OPERATOR, None):  # another principal; none at all (ANY)
        refused = call(master.port, "/standin/frameworks", "POST", json=registration("f-reg"), auth=credential)
        # Master::_subscribe's FrameworkErrorMessage, as the stand-in's wire answers it.
        assert refused.status_code == 403
        assert refused.json()["message"] == "Not authorized to register framework f-reg with roles { * }"
    refused_role = registration("f-reg", principal="operator", roles=["web", "ops"])
    answer = call(master.port, "/standin/frameworks", "POST", json=refused_role)
    assert answer.json()["message"] == "Not authorized to register framework f-reg with roles { ops, web }"
    assert frameworks(master) == []
    assert call(master.port, "/standin/frameworks", "POST", json=registration("f-reg"), auth=FRAMEWORK).ok
    assert [f["principal"] for f in frameworks(master)] == ["marathon"]


def test_the_master_hands_launch_tokens_only_for_the_users_run_tasks_allows(daemons) -> None:
    strict = daemons.add(start_master({}, acls=ACLS))
    permissive = daemons.add(start_master({}))
    agents = {master.port: daemons.add(start_agent(master)) for master in (strict, permissive)}
    for master in (strict, permissive):
        wait_until(lambda m=master: agents[m.port].hostname in registered_agents(m), 10, what="the agent registered")
    asked = registration("f-run", users=[TASK_USER, "root"])
    offer = call(strict.port, "/standin/frameworks", "POST", json=asked, auth=FRAMEWORK).json()
    (slave,) = offer["slaves"]
    token = agents[strict.port].launch_token
    assert slave["launch_token"] == token
    assert slave["user_tokens"] == {TASK_USER: user_token(token, TASK_USER)}
    assert offer["refused_users"] == {
        "root": "Principal 'marathon' no authorized to launch task {task_id} of framework f-run under user 'root'"
    }
    (shown,) = frameworks(strict)
    assert "users" not in shown and shown["user"] == TASK_USER
    # Without --acls, Mesos authorizes nothing: every user gets its token.
    offer = call(permissive.port, "/standin/frameworks", "POST", json=asked, auth=FRAMEWORK).json()
    token = agents[permissive.port].launch_token
    assert offer["slaves"][0]["user_tokens"] == {user: user_token(token, user) for user in (TASK_USER, "root")}
    assert offer["refused_users"] == {}


def test_the_agent_launches_only_with_the_token_the_master_gave_for_the_tasks_user(daemons) -> None:
    master = daemons.add(start_master({}))
    agent = daemons.add(start_agent(master))
    tasks = f"http://127.0.0.1:{agent.port}/standin/tasks"
    spec = {"taskId": "t-1", "appId": "/a", "version": "v", "user": "no-such-user-here"}
    wrong = (agent.launch_token, user_token(agent.launch_token, "root"), user_token("another-agent", spec["user"]))
    for token in wrong:
        refused = requests.post(tasks, json=spec, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert refused.status_code == 401
        assert refused.json()["message"] == "a launch token for tasks as user 'no-such-user-here' is required"
    bearer = {"Authorization": f"Bearer {user_token(agent.launch_token, spec['user'])}"}
    passed = requests.post(tasks, json=spec, headers=bearer, timeout=5)
    # Past the token, the agent's own check of the user, which this machine lacks.
    assert passed.status_code == 500
    assert "Failed to get user information for 'no-such-user-here'" in passed.json()["message"]
    # Listing and killing still take the agent's launch token itself.
    assert requests.get(tasks, headers={"Authorization": f"Bearer {agent.launch_token}"}, timeout=5).ok


# ------------------------------------------------------------------ Marathon's tasks


def launched_on(agent) -> list[dict]:
    """The launches that reach the agent past its token check (answered as a failed launch)."""
    launched: list[dict] = []
    agent.launch = lambda spec: launched.append(spec) or web.Response(500, {"message": "recorded by the test"})
    return launched


def last_failure(marathon, app_id: str) -> dict:
    return call(marathon.port, f"/v2/apps{app_id}").json()["app"].get("lastTaskFailure") or {}


@pytest.mark.parametrize(("mesos_user", "app_user"), [("marathon", None), (TASK_USER, "root")])
def test_every_task_as_a_user_run_tasks_refuses_fails_with_the_masters_message(daemons, mesos_user, app_user):
    """Marathon's own user when --mesos_user is missing; or an app's `user` over the framework's."""
    master = daemons.add(start_master(REGISTRATION_FLAGS, acls=ACLS))
    agent = daemons.add(start_agent(master, credential=("agent", "agent-secret")))
    launched = launched_on(agent)
    marathon = daemons.add(start_marathon(master, mesos_credential=FRAMEWORK, principal="marathon",
                                          mesos_user=mesos_user))  # fmt: skip
    app = {"id": "/refused", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16,
           **({"user": app_user} if app_user else {})}  # fmt: skip
    assert call(marathon.port, "/v2/apps", "POST", json=app).status_code == 201
    failure = wait_until(lambda: last_failure(marathon, "/refused"), 10, what="the task refused")
    assert failure["state"] == "TASK_ERROR"
    assert failure["slaveId"] == agent.id and failure["taskId"].startswith("refused.")
    assert failure["message"] == (
        f"Principal 'marathon' no authorized to launch task {failure['taskId']} of framework {marathon.framework_id}"
        f" under user '{app_user or mesos_user}'"
    )
    assert call(marathon.port, "/v2/apps/refused").json()["app"]["tasksStaged"] == 0
    assert launched == []  # the master refused: nothing reached the agent


def test_tasks_as_the_task_user_reach_the_agent(daemons) -> None:
    master = daemons.add(start_master(REGISTRATION_FLAGS, acls=ACLS))
    agent = daemons.add(start_agent(master, credential=("agent", "agent-secret")))
    launched = launched_on(agent)
    marathon = daemons.add(
        start_marathon(master, mesos_credential=FRAMEWORK, principal="marathon", mesos_user=TASK_USER)
    )
    app = {"id": "/allowed", "cmd": "sleep 1000", "instances": 1, "cpus": 0.1, "mem": 16}
    assert call(marathon.port, "/v2/apps", "POST", json=app).status_code == 201
    wait_until(lambda: launched, 10, what="a launch on the agent")
    assert {(spec["appId"], spec["user"]) for spec in launched} == {("/allowed", TASK_USER)}
    assert last_failure(marathon, "/allowed")["message"] == "launch failed: " + json.dumps(
        {"message": "recorded by the test"}
    )


# ------------------------------------------------------------------ teardown


def test_only_the_operator_principal_may_tear_a_framework_down(daemons) -> None:
    master = daemons.add(start_master(HTTP_FLAGS, acls=ACLS))
    agent = daemons.add(start_agent(master))
    wait_until(lambda: agent.hostname in registered_agents(master), 10, what="the agent registered")
    killed: list[str] = []
    agent.kill = lambda task_id: killed.append(task_id) or True
    task = {"id": "t-1", "framework_id": "f-down", "slave_id": agent.id, "state": "TASK_RUNNING",
            "resources": {"cpus": 0.1, "mem": 16, "disk": 0.0}}  # fmt: skip
    body = registration("f-down", tasks=[task])
    assert call(master.port, "/standin/frameworks", "POST", json=body, auth=FRAMEWORK).ok

    def teardown(credential) -> requests.Response:
        return call(master.port, "/master/teardown", "POST", data={"frameworkId": "f-down"}, auth=credential)

    for credential in (FRAMEWORK, ("agent", "agent-secret")):
        refused = teardown(credential)
        assert (refused.status_code, refused.text) == (403, "403 Forbidden.")
    assert [f["id"] for f in frameworks(master)] == ["f-down"]
    assert teardown(OPERATOR).status_code == 200
    assert frameworks(master) == []
    wait_until(lambda: killed == ["t-1"], 10, what="the framework's task killed")
    again = call(master.port, "/standin/frameworks", "POST", json=body, auth=FRAMEWORK)
    assert (again.status_code, again.json()["message"]) == (403, "Framework has been removed")


def test_teardown_answers_as_mesos_does_and_without_acls_allows_any_principal(daemons) -> None:
    master = daemons.add(start_master(HTTP_FLAGS))
    teardown = "/teardown"
    wrong_method = call(master.port, teardown, auth=OPERATOR)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert wrong_method.text == "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'."
    missing = call(master.port, teardown, "POST", auth=OPERATOR)
    assert (missing.status_code, missing.text) == (400, "Missing 'frameworkId' query parameter in the request body")
    unknown = call(master.port, teardown, "POST", data={"frameworkId": "nope"}, auth=OPERATOR)
    assert (unknown.status_code, unknown.text) == (400, "No framework found with specified ID")
    assert call(master.port, "/standin/frameworks", "POST", json=registration("f-open"), auth=FRAMEWORK).ok
    assert call(master.port, teardown, "POST", data={"frameworkId": "f-open"}, auth=FRAMEWORK).status_code == 200
    assert frameworks(master) == []
