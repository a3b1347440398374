"""What an agent hands Docker: the registry login of --docker_config, and a task's docker parameters."""

from __future__ import annotations

import base64
import json
import types

from standin.agent import Agent


def test_an_agent_pulls_with_the_login_its_docker_config_holds_for_the_image_registry():
    login = base64.b64encode(b"pull:s3cret").decode()
    agent = types.SimpleNamespace(
        flags={"docker_config": json.dumps({"auths": {"registry.lan:5000": {"auth": login}}})}
    )
    assert Agent._pull_login(agent, "registry.lan:5000/platform/app:1.0") == {"username": "pull", "password": "s3cret"}
    assert Agent._pull_login(agent, "elsewhere:5000/platform/app:1.0") is None
    assert Agent._pull_login(types.SimpleNamespace(flags={}), "registry.lan:5000/platform/app:1.0") is None
    assert Agent._pull_login(types.SimpleNamespace(flags={"docker_config": "[]"}), "registry.lan:5000/x") is None


def test_an_agent_runs_a_task_with_the_hardening_parameters_docker_run_would_take():
    kwargs: dict = {"labels": {}, "environment": {}}
    parameters = [("cap-drop", "ALL"), ("read-only", "true"), ("security-opt", "no-new-privileges"), ("tmpfs", "/tmp")]
    Agent._apply_parameters(kwargs, [{"key": key, "value": value} for key, value in parameters])
    assert kwargs["cap_drop"] == ["ALL"] and kwargs["read_only"] is True
    assert kwargs["security_opt"] == ["no-new-privileges"] and kwargs["tmpfs"] == {"/tmp": ""}
