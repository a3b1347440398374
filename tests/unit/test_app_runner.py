"""app.deploy: bad input changes nothing, 409s are waited out and never forced, failures roll back."""

from __future__ import annotations

import copy
import hashlib
import itertools
import pathlib

import app as app_runner
import apps
import pytest
import salt.client
import salt.modules.slsutil
import site_secrets
import topology
from salt.exceptions import CommandExecutionError

from .conftest import secret_fingerprint

ENV_HOSTS = {"test": ["ms1", "ms2"], "production": ["ms3", "ms4"]}


CA_PEM = "-----BEGIN CERTIFICATE-----\nthe cluster CA\n-----END CERTIFICATE-----\n"
CA_PIN = "5e1f"  # what site.pin_ca recorded for CA_PEM's key


class FakeMarathon:
    """Marathon as the runner sees it through the marathon module: apps, versions, deployments."""

    def __init__(self, platform: dict, healthy: bool = True, locked_by: str | None = None):
        self.platform = platform
        self.healthy = healthy
        self.locked_by = locked_by
        self.apps: dict[str, dict] = {}
        self.stored: dict[str, dict[str, dict]] = {}
        self.puts: list[tuple[str, dict, bool]] = []
        self.clock = itertools.count(1)

    def _stamp(self) -> str:
        return f"2026-11-26T00:00:{next(self.clock):02d}.000Z"

    def app(self, app_id, pillar=None):
        app = copy.deepcopy(self.apps.get(app_id))
        if app and "lastTaskFailure" in app:  # Marathon keeps relaunching and killing the unhealthy tasks
            app["lastTaskFailure"]["taskId"] = f"task-{next(self.clock)}"
        return app

    def put_app(self, app_id, body, pillar=None, force=False):
        self.puts.append((app_id, body, force))
        if self.locked_by and not force:
            raise CommandExecutionError(
                "Marathon PUT: HTTP 409", info={"status": 409, "body": {"deployments": [{"id": self.locked_by}]}}
            )
        stamp = self._stamp()
        if set(body) == {"version"}:
            definition = copy.deepcopy(self.stored[app_id][body["version"]])
            healthy = True
        else:
            definition = copy.deepcopy(self.apps.get(app_id, {})) | copy.deepcopy(body)
            healthy = self.healthy
        self.launch(app_id, definition, stamp, healthy)
        return {"version": stamp, "deploymentId": f"dep-{stamp}"}

    def launch(self, app_id, definition, stamp, healthy):
        definition.update(id=app_id, version=stamp, versionInfo={"lastConfigChangeAt": stamp})
        env = definition["constraints"][0][2]
        hosts = itertools.cycle(ENV_HOSTS[env])
        definition["tasks"] = [
            {
                "id": f"task-{stamp}-{i}",
                "host": next(hosts),
                "ports": [31000 + next(self.clock)],
                "version": stamp,
                "state": "TASK_RUNNING",
                "healthCheckResults": [{"alive": healthy}],
            }
            for i in range(definition["instances"])
        ]
        definition["deployments"] = [] if healthy else [{"id": f"dep-{stamp}"}]
        if not healthy:
            definition["lastTaskFailure"] = {"version": stamp, "taskId": "t", "host": "ms1", "state": "TASK_KILLED"}
        self.apps[app_id] = definition
        stored = {k: v for k, v in definition.items() if k not in ("tasks", "deployments", "lastTaskFailure")}
        self.stored.setdefault(app_id, {})[stamp] = stored

    def deployments(self, app_id=None, pillar=None):
        return copy.deepcopy((self.apps.get(app_id) or {}).get("deployments", []))

    def versions(self, app_id, pillar=None):
        return sorted(self.stored.get(app_id, {}), reverse=True)

    def version(self, app_id, stamp, pillar=None):
        return copy.deepcopy(self.stored[app_id][stamp])

    def passing(self, service, tag, pillar=None, ca=None):
        assert pathlib.Path(ca).read_text() == CA_PEM, "Consul's HTTPS answers are checked against the CA"
        app = self.apps.get(f"/app-{tag}") or {}
        ips = {name: node["ip"] for name, node in self.platform["nodes"].items()}
        return [
            {"address": ips[task["host"]], "port": task["ports"][0]}
            for task in app.get("tasks", [])
            if all(result["alive"] for result in task["healthCheckResults"])
        ]

    def served(self, env, samples=10, pillar=None, ca=None):
        assert pathlib.Path(ca).read_text() == CA_PEM, "the answers are checked against the CA node's certificate"
        app = self.apps.get(f"/app-{env}")
        if not app or not self.passing("app", env, ca=ca):
            return [{"status": 503, "version": None, "host": None}] * samples
        return [{"status": 200, "version": apps.version_of(app), "host": "c1"}] * samples


def site_store(pillar: dict, **values: str) -> dict:
    """A store holding every secret of the catalog, as `salt-run site.secrets` writes it; some set."""
    return {s.key: {"value": values.get(s.key, f"{s.key}-value")} for s in site_secrets.catalog(pillar)}


@pytest.fixture
def registry_tags():
    """What the registry holds: tag -> manifest digest (a push over a tag changes its digest)."""
    return {tag: digest_of_push(tag) for tag in ("1.0.0", "1.1.0", "2.0.0")}


def digest_of_push(tag: str, push: int = 1) -> str:
    return "sha256:" + hashlib.sha256(f"{tag}#{push}".encode()).hexdigest()


@pytest.fixture
def marathon(repo_pillar):
    return FakeMarathon(repo_pillar["platform"])


@pytest.fixture
def configure_loader_modules(repo_pillar, marathon, registry_tags, monkeypatch, topology_funcs, runner_utils, tmp_path):

    def unreachable(*args, **kwargs):
        raise CommandExecutionError("Marathon is unreachable: tried http://192.168.33.11:8080 (ConnectionError)")

    system = {
        "marathon.app": lambda *a, **k: marathon.app(*a, **k),
        "marathon.put_app": lambda *a, **k: marathon.put_app(*a, **k),
        "marathon.deployments": lambda *a, **k: marathon.deployments(*a, **k),
        "marathon.versions": lambda *a, **k: marathon.versions(*a, **k),
        "marathon.version": lambda *a, **k: marathon.version(*a, **k),
        "marathon.delete_app": lambda app_id, pillar=None: marathon.apps.pop(app_id) and {},
        "marathon.urls": lambda pillar=None: ["http://192.168.33.11:8080"],
        "consul_health.passing": lambda *a, **k: marathon.passing(*a, **k),
        "apps.served": lambda *a, **k: marathon.served(*a, **k),
        "mesos.agents": lambda pillar=None: [
            {"hostname": host, "attributes": {"env": env}, "resources": {"cpus": 2.0, "mem": 1536.0}}
            for env, hosts in ENV_HOSTS.items()
            for host in hosts
        ],
        "marathon.unreachable": unreachable,
        "cluster_ca.key_pin": lambda pem: {CA_PEM: CA_PIN}[pem],
    }

    class Modules(dict):
        """The master's loader as the runner uses it: system modules faked, pure ones real."""

        def __missing__(self, fun):
            module, name = fun.split(".")
            return getattr({"apps": apps, "topology": topology}[module], name)

    class Client:
        def cmd(self, target, fun, arg=(), **kwargs):
            if fun == "saltutil.sync_modules":
                return {target: []}
            assert fun == "registry.digest" and kwargs.get("full_return"), fun
            if "refused" in registry_tags:  # the registry turns the builder's user away
                return {target: {"ret": registry_tags["refused"], "retcode": 1}}
            return {target: {"ret": registry_tags.get(arg[1]), "retcode": 0}}

    monkeypatch.setattr(salt.client, "get_local_client", lambda conf_file: Client())
    return {
        app_runner: {
            "__opts__": {
                "conf_file": "/dev/null",
                "site_secrets_file": "/nonexistent/secrets.yaml",
                "cachedir": str(tmp_path),
            },
            "__context__": {"platform_runner.modules": Modules(system)},
            "__salt__": {
                "pillar.show_pillar": lambda: repo_pillar,
                "mine.get": lambda tgt, fun, tgt_type: (
                    {"registry": CA_PEM} if (tgt, tgt_type) == ("registry", "list") else {}
                ),
                "cluster.validate": lambda: {"retcode": 0},
            },
            "__utils__": runner_utils
            | {
                "site_secrets.load": lambda path: site_store(repo_pillar, **{"app_secret_key/test": "test-secret"}),
                "site_secrets.load_pins": lambda path: {"ca": CA_PIN},
            },
        },
        apps: {"__pillar__": repo_pillar, "__salt__": topology_funcs},
        topology: {"__pillar__": repo_pillar, "__salt__": topology_funcs},
        salt.modules.slsutil: {},
    }


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(app_runner.time, "sleep", lambda seconds: None)


def test_deploy_rolls_out_and_is_served(marathon):
    result = app_runner.deploy(env="test", version="1.1.0", instances=3)
    assert result["retcode"] == 0, result["comment"]
    app = marathon.apps["/app-test"]
    assert apps.version_of(app) == "1.1.0"
    assert app["instances"] == 3
    assert [force for _, _, force in marathon.puts] == [False]


def test_a_cluster_ca_without_the_pinned_key_stops_the_deploy_before_it_is_checked(marathon):
    app_runner.__utils__["site_secrets.load_pins"] = lambda path: {"ca": "another-key"}
    result = app_runner.deploy(env="test", version="1.1.0")
    assert result["retcode"] == 1
    assert "does not have the pinned key: see `salt-run site.pin_ca`" in result["comment"]
    assert marathon.puts == []


def test_deploying_the_running_version_again_changes_nothing(marathon):
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    assert len(marathon.puts) == 1


def test_an_app_running_without_the_task_hardening_is_redeployed_with_it(marathon):
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    marathon.apps["/app-test"]["container"]["docker"].pop("parameters")  # deployed by an earlier version
    assert app_runner.redeploy(env="test")["retcode"] == 0
    assert len(marathon.puts) == 2
    assert marathon.apps["/app-test"]["container"]["docker"]["parameters"][0] == {"key": "cap-drop", "value": "ALL"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env": "nope"}, "unknown environment 'nope': pillar platform:environments has test, production"),
        ({"env": "test", "version": "9.9.9"}, "app:9.9.9 is not in the registry; nothing was deployed"),
        ({"env": "test", "version": "1.0.0", "instances": 0}, "instances=0: an environment runs at least 1"),
        ({"env": "test", "version": "1.0.0", "instances": "many"}, "instances='many' is not a number"),
        ({"env": "test", "version": "1.0.0", "instances": 40}, "instances=40 does not fit environment test"),
        ({}, "say which environment"),
        ({"env": "test", "version": "x;touch /tmp/p"}, "version 'x;touch /tmp/p' is not an image tag"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_changes_nothing(marathon, kwargs, message):
    result = app_runner.deploy(**kwargs)
    assert result["retcode"] == 1
    assert message in result["comment"]
    assert marathon.puts == []


@pytest.mark.parametrize("version", ["x;touch /tmp/p", "$(id)", "-rm", "a b", "x" * 129])
def test_a_build_of_a_version_that_is_not_a_tag_is_refused_before_any_node_is_asked(version, monkeypatch):
    monkeypatch.setattr(salt.client, "get_local_client", lambda conf_file: pytest.fail("a node was asked"))
    result = app_runner.build(version=version)
    assert result["retcode"] == 1
    assert "is not an image tag" in result["comment"] and "nothing was changed" in result["comment"]


def test_unreachable_marathon_is_a_clear_error(configure_loader_modules, marathon):
    modules = app_runner.__context__["platform_runner.modules"]
    for fun in [name for name in modules if name.startswith("marathon.")]:
        modules[fun] = modules["marathon.unreachable"]
    result = app_runner.deploy(env="test", version="1.0.0")
    assert result["retcode"] == 1
    assert "Marathon is unreachable: tried http://192.168.33.11:8080" in result["comment"]


def test_a_409_is_waited_out_then_reported_never_forced(marathon):
    app_runner.deploy(env="test", version="1.0.0")
    marathon.locked_by = "97c136bf"
    marathon.puts.clear()
    result = app_runner.deploy(env="test", version="1.1.0", timeout=1)
    assert result["retcode"] == 1
    assert "locked by deployment 97c136bf" in result["comment"]
    assert "nothing was changed" in result["comment"]
    assert marathon.puts and all(not force for _, _, force in marathon.puts)
    assert apps.version_of(marathon.apps["/app-test"]) == "1.0.0"


def test_an_unhealthy_version_is_rolled_back_to_the_previous_one(marathon):
    app_runner.deploy(env="test", version="1.0.0")
    marathon.healthy = False
    result = app_runner.deploy(env="test", version="2.0.0")
    assert result["retcode"] == 1
    assert "deploy of app:2.0.0 to test failed" in result["comment"]
    assert "rolled back to app:1.0.0" in result["comment"]
    rollback = marathon.puts[-1]
    assert set(rollback[1]) == {"version"} and rollback[2] is True
    assert apps.version_of(marathon.apps["/app-test"]) == "1.0.0"


def test_rollback_returns_to_the_image_before_the_current_one(marathon):
    app_runner.deploy(env="production", version="1.0.0")
    app_runner.deploy(env="production", version="1.1.0")
    result = app_runner.rollback(env="production")
    assert result["retcode"] == 0, result["comment"]
    assert apps.version_of(marathon.apps["/app-production"]) == "1.0.0"


def test_rollback_after_a_rotation_keeps_the_new_secret(marathon, configure_loader_modules, repo_pillar):
    app_runner.deploy(env="test", version="1.0.0")
    app_runner.deploy(env="test", version="1.1.0")
    rotated = site_store(repo_pillar, **{"app_secret_key/test": "rotated-secret"})
    app_runner.__utils__["site_secrets.load"] = lambda path: rotated
    result = app_runner.rollback(env="test")
    assert result["retcode"] == 0, result["comment"]
    running = marathon.apps["/app-test"]
    assert apps.version_of(running) == "1.0.0"
    assert running["labels"]["secret_key"] == secret_fingerprint("rotated-secret")


def test_redeploy_keeps_the_running_version_and_takes_the_new_secret(marathon, repo_pillar):
    app_runner.deploy(env="test", version="1.1.0", instances=3)
    rotated = site_store(repo_pillar, **{"app_secret_key/test": "rotated-secret"})
    app_runner.__utils__["site_secrets.load"] = lambda path: rotated
    result = app_runner.redeploy(env="test")
    assert result["retcode"] == 0, result["comment"]
    running = marathon.apps["/app-test"]
    assert (apps.version_of(running), running["instances"]) == ("1.1.0", 3)
    assert running["labels"]["secret_key"] == secret_fingerprint("rotated-secret")
    assert app_runner.redeploy(env="production")["comment"] == "app-production is not deployed: nothing to do"


def test_scale_keeps_the_version_and_waits_for_every_instance(marathon):
    app_runner.deploy(env="test", version="1.1.0", instances=2)
    result = app_runner.scale(env="test", instances=5)
    assert result["retcode"] == 0, result["comment"]
    assert marathon.apps["/app-test"]["instances"] == 5
    assert apps.version_of(marathon.apps["/app-test"]) == "1.1.0"


def test_marathon_runs_the_image_by_digest_and_a_tag_pushed_over_changes_nothing_that_runs(marathon, registry_tags):
    assert app_runner.deploy(env="test", version="1.1.0")["retcode"] == 0
    image = marathon.apps["/app-test"]["container"]["docker"]["image"]
    assert image == f"registry.localdomain:5001/platform/app@{digest_of_push('1.1.0')}"
    assert apps.version_of(marathon.apps["/app-test"]) == "1.1.0"

    registry_tags["1.1.0"] = digest_of_push("1.1.0", push=2)  # someone pushes over the tag
    assert app_runner.redeploy(env="test")["retcode"] == 0  # e.g. after a secret rotation
    assert marathon.apps["/app-test"]["container"]["docker"]["image"] == image
    # Deploying the tag again is a deliberate choice of its new content.
    assert app_runner.deploy(env="test", version="1.1.0")["retcode"] == 0
    assert marathon.apps["/app-test"]["container"]["docker"]["image"].endswith(digest_of_push("1.1.0", push=2))


def test_rollback_returns_to_the_content_that_ran_before(marathon, registry_tags):
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    assert app_runner.deploy(env="test", version="1.1.0")["retcode"] == 0
    registry_tags["1.0.0"] = digest_of_push("1.0.0", push=2)
    assert app_runner.rollback(env="test")["retcode"] == 0
    assert marathon.apps["/app-test"]["container"]["docker"]["image"].endswith(digest_of_push("1.0.0"))


def test_a_registry_that_refuses_the_builder_is_named_and_nothing_is_deployed(marathon, registry_tags):
    registry_tags["refused"] = "the registry refused this node's user (builder) at https://registry…"
    result = app_runner.deploy(env="test", version="1.1.0")
    assert result["retcode"] == 1
    assert "could not ask the registry through registry: the registry refused this node's user" in result["comment"]
    assert marathon.puts == []


def test_a_definition_that_is_not_confined_is_refused_and_nothing_is_submitted(marathon, monkeypatch):
    confined = apps.definition

    def privileged(*args, **kwargs):
        app = confined(*args, **kwargs)
        app["container"]["docker"]["privileged"] = True
        return app

    monkeypatch.setattr(apps, "definition", privileged)
    result = app_runner.deploy(env="test", version="1.0.0")
    assert result["retcode"] == 1
    assert "/app-test would not be confined; nothing was submitted" in result["comment"]
    assert "privileged is true" in result["comment"]
    assert marathon.puts == []


def test_an_app_made_privileged_by_hand_is_redeployed_confined(marathon):
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    marathon.apps["/app-test"]["container"]["docker"]["privileged"] = True  # a curl with the runner's password
    assert app_runner.deploy(env="test", version="1.0.0")["retcode"] == 0
    assert len(marathon.puts) == 2
    assert not marathon.apps["/app-test"]["container"]["docker"].get("privileged")
