"""The app's Marathon definition, built from pillar, is what Marathon itself accepts."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import apps
import pytest
import salt.modules.slsutil
import topology
from salt.exceptions import CommandExecutionError

from .conftest import secret_fingerprint

REPO = pathlib.Path(__file__).resolve().parents[2]
VALIDATE_APP = REPO.parent / "shared" / "reference" / "marathon" / "validate_app.py"


@pytest.fixture
def configure_loader_modules(repo_pillar, topology_funcs):
    # What the app runner adds from the site's secrets (it reads them, no node receives them).
    for env, settings in repo_pillar["app"]["environments"].items():
        settings["secret_key"] = f"secret-of-{env}"
    return {
        apps: {"__pillar__": repo_pillar, "__salt__": topology_funcs},
        topology: {"__pillar__": repo_pillar, "__salt__": topology_funcs},
        salt.modules.slsutil: {},
    }


def test_each_environment_signs_sessions_with_its_own_secret_read_from_a_file_not_the_environment():
    test, production = apps.definition("test", "1.2.3", 1), apps.definition("production", "1.2.3", 1)
    for app, env, secret in ((test, "test", "secret-of-test"), (production, "production", "secret-of-production")):
        assert app["env"]["NOTEJAM_SECRET_KEY_FILE"] == "/run/secrets/notejam/secret_key"
        assert {"containerPath": "/run/secrets/notejam", "hostPath": f"/etc/platform-app/{env}", "mode": "RO"} in (
            app["container"]["volumes"]
        )
        # Marathon's API shows which key, never the key.
        assert app["labels"]["secret_key"] == secret_fingerprint(secret)
        assert secret not in str(app)
    assert test["labels"]["secret_key"] != production["labels"]["secret_key"]


def test_a_definition_without_the_environments_secret_is_refused(repo_pillar):
    del repo_pillar["app"]["environments"]["test"]["secret_key"]
    with pytest.raises(CommandExecutionError, match="app:environments:test:secret_key.*salt-run site.secrets"):
        apps.definition("test", "1.2.3", 1)


def test_definition_runs_the_tagged_image_from_the_private_registry_in_its_env():
    app = apps.definition("test", "1.2.3", 3)
    assert app["id"] == "/app-test"
    assert app["instances"] == 3
    assert app["container"]["docker"]["image"] == "registry.localdomain:5001/platform/app:1.2.3"
    assert app["constraints"] == [["env", "CLUSTER", "test"], ["hostname", "GROUP_BY"]]
    assert app["networks"] == [{"mode": "container/bridge"}]
    assert app["container"]["portMappings"][0] | {"name": "http"} == {
        "containerPort": 8000,
        "hostPort": 0,
        "protocol": "tcp",
        "name": "http",
    }


def test_app_tasks_run_without_capabilities_on_a_read_only_root_and_cannot_gain_privileges():
    app = apps.definition("production", "1.0.0", 2)
    assert app["container"]["docker"]["parameters"] == [
        {"key": "cap-drop", "value": "ALL"},
        {"key": "read-only", "value": "true"},
        {"key": "security-opt", "value": "no-new-privileges"},
        {"key": "tmpfs", "value": "/tmp"},
    ]
    # The only host paths are the environment's own data directory and key, never privileged mode.
    assert [volume["hostPath"] for volume in app["container"]["volumes"]] == [
        "/data/production",
        "/etc/platform-app/production",
    ]
    assert "privileged" not in app["container"]["docker"]


def test_definition_registers_service_app_tagged_with_the_env_and_keeps_data_on_shared_storage():
    app = apps.definition("production", "1.0.0", 2)
    assert app["env"]["SERVICE_NAME"] == "app"
    assert app["env"]["SERVICE_TAGS"] == "production"
    assert app["env"]["SERVICE_CHECK_HTTP"] == "/health"
    assert app["env"]["NOTEJAM_DB"] == "/data/production/notejam-production.db"
    assert app["container"]["volumes"] == [
        {"containerPath": "/data/production", "hostPath": "/data/production", "mode": "RW"},
        {"containerPath": "/run/secrets/notejam", "hostPath": "/etc/platform-app/production", "mode": "RO"},
    ]


def test_upgrades_never_drop_below_full_capacity_and_are_gated_by_health():
    app = apps.definition("test", "1.0.0", 2)
    assert app["upgradeStrategy"]["minimumHealthCapacity"] == 1
    [check] = app["healthChecks"]
    assert (check["protocol"], check["path"], check["portIndex"]) == ("HTTP", "/health", 0)


def test_version_of_reads_the_image_tag_even_with_a_registry_port():
    assert apps.version_of(apps.definition("test", "2.0.0-rc1", 1)) == "2.0.0-rc1"
    assert apps.version_of({"container": {"docker": {"image": "registry.localdomain:5000/platform/app"}}}) is None
    assert apps.version_of({}) is None


@pytest.mark.shared_reference
@pytest.mark.skipif(not VALIDATE_APP.exists(), reason=f"{VALIDATE_APP} is absent (../shared/reference)")
@pytest.mark.parametrize("marathon", ["1.5", "1.7"])
@pytest.mark.parametrize("env", ["test", "production"])
def test_definition_passes_marathons_own_schema_and_rules(tmp_path, env, marathon):
    path = tmp_path / "app.json"
    path.write_text(json.dumps(apps.definition(env, "1.0.0", 2)))
    verdict = subprocess.run(
        [sys.executable, str(VALIDATE_APP), str(path), "--marathon", marathon], capture_output=True, text=True
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


@pytest.mark.shared_reference
@pytest.mark.skipif(not VALIDATE_APP.exists(), reason=f"{VALIDATE_APP} is absent (../shared/reference)")
def test_validate_app_rejects_a_broken_definition_so_the_check_above_can_fail(tmp_path):
    app = apps.definition("test", "1.0.0", 2)
    app["upgradeStrategy"]["minimumHealthCapacity"] = 2
    path = tmp_path / "app.json"
    path.write_text(json.dumps(app))
    verdict = subprocess.run([sys.executable, str(VALIDATE_APP), str(path), "--marathon", "1.5"], capture_output=True)
    assert verdict.returncode == 1


@pytest.mark.parametrize("env", ["test", "production"])
def test_the_definition_of_each_environment_is_confined(env):
    assert apps.confinement_problems(apps.definition(env, "1.0.0", 2), env) == []


def _widened(change):
    app = apps.definition("test", "1.0.0", 2)
    change(app)
    return apps.confinement_problems(app, "test")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda app: app["container"]["docker"].update(privileged=True), "privileged is true"),
        (lambda app: app.update(networks=[{"mode": "host"}]), "networks are ['host']"),
        (lambda app: app["container"]["docker"].update(network="HOST"), "container.docker.network is HOST"),
        (
            lambda app: app["container"]["docker"]["parameters"].append({"key": "cap-add", "value": "SYS_ADMIN"}),
            "docker parameters --cap-add=SYS_ADMIN are not allowed",
        ),
        (lambda app: app["container"]["docker"]["parameters"].pop(1), "docker parameters lack --read-only=true"),
        (
            lambda app: app["container"]["volumes"].append({"containerPath": "/host", "hostPath": "/", "mode": "RW"}),
            "volume /host binds /: only /data/test and /etc/platform-app/test may be bound for test",
        ),
        (
            lambda app: app["container"]["volumes"][1].update(hostPath="/etc/platform-app/production"),
            "binds /etc/platform-app/production",
        ),
        (
            lambda app: app["container"]["volumes"][0].update(hostPath="/data/production"),
            "binds /data/production",
        ),
        (lambda app: app["container"]["volumes"][1].update(mode="RW"), "volume /etc/platform-app/test is RW"),
        (lambda app: app.update(constraints=[]), "constraints lack [env, CLUSTER, test]"),
    ],
)
def test_a_widened_definition_is_named_for_what_it_widens(change, problem):
    problems = _widened(change)
    assert len(problems) == 1 and problem in problems[0], problems
