"""cluster.up: validation first, the design's step order, stop at the first failure."""

from __future__ import annotations

import cluster
import platform_drift
import platform_status
import pytest
import site_secrets
import topology


class FakeClient:
    """Answers like LocalClient; records every state.apply in order; fails where told."""

    def __init__(self, failing: dict[str, str] | None = None, vip_holders: tuple[str, ...] = ("lb1",)):
        self.failing = failing or {}
        self.vip_holders = vip_holders
        self.applied: list[tuple[tuple[str, ...], str, bool]] = []
        self.calls: list[str] = []

    def cmd(self, targets, fun, arg=(), tgt_type="list", timeout=None, **kwargs):
        self.calls.append(fun)
        if fun == "health.services":
            answers = {node: {"docker": {"ok": True, "detail": "engine running"}} for node in targets}
            for node in ("lb1", "lb2"):
                held = node in self.vip_holders
                answers[node]["keepalived"] = {"ok": True, "detail": "MASTER" if held else "BACKUP", "holds_vip": held}
            return answers
        return {node: True for node in targets}

    def cmd_iter(self, targets, fun, arg=(), kwarg=None, tgt_type="list", timeout=None):
        self.calls.append(fun)
        self.applied.append((tuple(targets), arg[0] if arg else "highstate", kwarg["test"]))
        for node in targets:
            state = {"__id__": "zookeeper-service-running", "__sls__": "zookeeper.service", "changes": {}}
            if node in self.failing:
                state.update(result=False, comment=self.failing[node])
                yield {node: {"ret": {"service_|-zk_|-zookeeper_|-running": state}, "retcode": 2}}
            else:
                state.update(result=None if kwarg["test"] else True, comment="")
                yield {node: {"ret": {"service_|-zk_|-zookeeper_|-running": state}, "retcode": 0}}


@pytest.fixture
def client(monkeypatch):
    fake = FakeClient()
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    return fake


@pytest.fixture
def deployed():
    return []


@pytest.fixture
def pins():
    return []


@pytest.fixture
def configure_loader_modules(repo_pillar, deployed, pins, runner_utils, tmp_path, topology_funcs):
    store = {secret.key: site_secrets.new_entry(secret) for secret in site_secrets.catalog(repo_pillar)}

    def salt_cmd(fun, **kwargs):
        if fun == "apps.settings":
            return repo_pillar["app"]
        if fun == "topology.ca_node":
            return topology.ca_node(**kwargs)
        assert fun == "topology.errors"
        return topology.errors(**kwargs)

    def deploy(env, version, pillar):
        deployed.append((env, version))
        return {"result": True, "comment": f"app:{version} serves app-{env}"}

    return {
        cluster: {
            "__opts__": {
                "conf_file": "/dev/null",
                "platform_minion_wait": 0,
                "platform_verify_settle": 0,
                "site_secrets_file": str(tmp_path / "secrets.yaml"),
            },
            "__context__": {},
            "__utils__": runner_utils | {"site_secrets.load": lambda path: store},
            "__salt__": {
                "pillar.show_pillar": lambda: repo_pillar,
                "salt.cmd": salt_cmd,
                "artifacts.build": lambda test=False, pillar=None: {"result": True, "built": [], "errors": []},
                "app.deploy": deploy,
                "site.secrets": lambda: {"retcode": 0, "comment": "0 secret(s) generated or rotated, 4 kept"},
                "site.pin_ca": lambda: pins.append("ca") or {"retcode": 0, "comment": "pinned"},
            },
        },
        topology: {"__salt__": topology_funcs},
    }


def test_plan_follows_the_design_order(repo_pillar):
    steps = [(step["step"], step["nodes"]) for step in cluster.plan(repo_pillar["platform"])]
    assert steps == [
        ("artifacts", []),
        ("registry", ["registry"]),
        ("base-images", ["registry"]),
        ("masters", ["mm1", "mm2", "mm3"]),
        ("nfs-server", ["ms1"]),
        ("agents", ["ms2", "ms3", "ms4"]),
        ("lb-image", ["registry"]),
        ("lbs", ["lb1", "lb2"]),
        ("app-image", ["registry"]),
        ("verify", []),
        ("deploy", []),
    ]


def test_plan_highstates_every_node_exactly_once(repo_pillar):
    repo_pillar["platform"]["nodes"]["mon1"] = {"ip": "192.168.33.30", "roles": ["consul-agent"]}
    steps = cluster.plan(repo_pillar["platform"])
    highstated = [node for step in steps if step["action"] == "apply" and not step["sls"] for node in step["nodes"]]
    assert sorted(highstated) == sorted(repo_pillar["platform"]["nodes"])
    assert steps[-4] == {
        "step": "others",
        "description": "nodes no earlier step covered",
        "action": "apply",
        "sls": "",
        "needs": "",
        "nodes": ["mon1"],
    }


def test_up_applies_steps_in_order(client, deployed, pins, repo_pillar):
    result = cluster.up()
    assert result["retcode"] == 0, result
    assert pins == ["ca"]  # once, after the CA node's highstate
    assert client.applied == [
        (("registry",), "highstate", False),
        (("registry",), "images.base,images.registrator", False),
        (("mm1", "mm2", "mm3"), "highstate", False),
        (("ms1",), "highstate", False),
        (("ms2", "ms3", "ms4"), "highstate", False),
        (("registry",), "images.lb", False),
        (("lb1", "lb2"), "highstate", False),
        (("registry",), "images.app", False),
    ]
    assert [step["step"] for step in result["steps"]][-2:] == ["verify", "deploy"]
    version = repo_pillar["app"]["version"]
    assert deployed == [("test", version), ("production", version)]


def test_a_ca_whose_key_is_not_the_pinned_one_stops_the_run_before_any_other_node(client):
    refusal = "the CA registry publishes has key sha256:aa, not the pinned sha256:bb; nothing was changed"
    cluster.__salt__["site.pin_ca"] = lambda: {"retcode": 1, "comment": refusal}
    result = cluster.up()
    assert result["retcode"] == 1
    assert result["comment"] == f"step registry: {refusal}"
    assert client.applied == [(("registry",), "highstate", False)]


def test_invalid_pillar_applies_nothing(client, repo_pillar):
    repo_pillar["platform"]["nodes"]["ms2"]["ip"] = "192.168.33.14"
    result = cluster.up()
    assert result["retcode"] == 1
    assert "duplicate ip 192.168.33.14 on nodes ms1, ms2" in result["comment"]
    assert "nothing was applied" in result["comment"]
    assert client.calls == []
    assert cluster.__context__["retcode"] == 1


def test_first_failure_stops_the_run_and_names_step_node_and_state(monkeypatch):
    fake = FakeClient(failing={"mm2": "Service zookeeper failed to start"})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    result = cluster.up()
    assert result["retcode"] == 1
    assert result["failed"] == {
        "step": "masters",
        "nodes": {"mm2": ["zookeeper-service-running (zookeeper.service): Service zookeeper failed to start"]},
    }
    assert "step masters failed on mm2" in result["comment"]
    assert [targets for targets, _, _ in fake.applied][-1] == ("mm1", "mm2", "mm3")


def test_silent_minion_applies_nothing(monkeypatch):
    class Silent(FakeClient):
        def cmd(self, targets, fun, **kwargs):
            self.calls.append(fun)
            return {node: True for node in targets if node != "ms4"}

    fake = Silent()
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    result = cluster.up()
    assert result["retcode"] == 1
    assert result["comment"].startswith("nodes not answering: ms4")
    assert fake.applied == []


def test_dry_run_passes_test_and_counts_pending_changes(client, deployed):
    result = cluster.up(test=True)
    assert deployed == []
    assert result["retcode"] == 0
    assert {test for _, _, test in client.applied} == {True}
    masters = next(step for step in result["steps"] if step["step"] == "masters")
    assert masters["changed"] == {"mm1": 1, "mm2": 1, "mm3": 1}
    assert result["comment"] == "dry run: nothing was changed"


def test_a_site_without_the_app_in_pillar_skips_its_image_and_deploy(client, deployed, repo_pillar):
    del repo_pillar["app"]
    result = cluster.up()
    assert result["retcode"] == 0, result
    assert [step["step"] for step in result["steps"]][-2:] == ["lbs", "verify"]
    assert deployed == []


def test_a_failed_deploy_fails_the_run_naming_the_environment(client):
    cluster.__salt__["app.deploy"] = lambda env, version, pillar: {
        "result": env != "production",
        "comment": "deploy of app:1.0.0 to production failed: not served in time",
    }
    result = cluster.up()
    assert result["retcode"] == 1
    assert result["failed"] == {
        "step": "deploy",
        "nodes": {"app-production": ["deploy of app:1.0.0 to production failed: not served in time"]},
    }


def test_render_error_is_a_failure(monkeypatch):
    class RenderError(FakeClient):
        def cmd_iter(self, targets, fun, arg=(), kwarg=None, **kwargs):
            self.applied.append((tuple(targets), "highstate", False))
            for node in targets:
                yield {node: {"ret": ["Rendering SLS 'base:consul' failed: oops"], "retcode": 1}}

    fake = RenderError()
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    result = cluster.up()
    assert result["failed"]["step"] == "registry"
    assert result["failed"]["nodes"]["registry"] == ["render error: Rendering SLS 'base:consul' failed: oops"]


def test_status_table_lists_every_node(client, monkeypatch):
    monkeypatch.setattr(cluster, "_last_highstates", lambda nodes: {"mm1": "2026-11-26 ok"})
    result = cluster.status()
    assert result["outputter"] == "platform_status"
    assert result["data"]["retcode"] == 0
    lines = platform_status.output(result["data"]).splitlines()
    assert lines[0].split() == ["NODE", "ROLES", "UP", "LAST", "HIGHSTATE", "SERVICES"]
    nodes = [line.split()[0] for line in lines[1:-2] if not line.startswith(" ")]
    assert nodes == ["lb1", "lb2", "mm1", "mm2", "mm3", "ms1", "ms2", "ms3", "ms4", "registry"]
    assert lines[1].split()[:5] == ["lb1", "lb,keepalived,consul-agent", "yes", "never", "docker:"]
    assert lines[2].split() == ["keepalived:", "MASTER"]
    assert "2026-11-26 ok" in next(line for line in lines if line.startswith("mm1"))
    assert lines[-1] == "all 10 nodes healthy"


def test_status_of_an_unreachable_node_is_a_failure(monkeypatch):
    class Partial(FakeClient):
        def cmd(self, targets, fun, **kwargs):
            answers = super().cmd(targets, fun, **kwargs)
            answers.pop("ms3")
            return answers

    monkeypatch.setattr(cluster, "_local_client", lambda: Partial())
    monkeypatch.setattr(cluster, "_last_highstates", lambda nodes: {})
    data = cluster.status()["data"]
    assert data["retcode"] == 1
    row = next(row for row in data["rows"] if row["node"] == "ms3")
    assert (row["reachable"], row["healthy"]) == (False, False)
    table = platform_status.output(data).splitlines()
    assert next(line for line in table if line.startswith("ms3")).split()[2] == "NO"
    assert table[-1] == "unhealthy: ms3"


@pytest.mark.parametrize("holders", [(), ("lb1", "lb2")])
def test_verify_fails_unless_exactly_one_lb_holds_the_vip(monkeypatch, holders):
    fake = FakeClient(vip_holders=holders)
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    result = cluster.up()
    assert result["retcode"] == 1
    assert result["failed"]["step"] == "verify"
    assert f"held by {len(holders)} load balancers" in result["comment"]


def test_verify_waits_for_services_to_settle(monkeypatch):
    """A service that answers on the second check does not fail the run."""
    fake = FakeClient(vip_holders=())
    checks = []

    def cmd(targets, fun, **kwargs):
        if fun == "health.services":
            checks.append(fun)
            fake.vip_holders = ("lb1",) if len(checks) > 1 else ()
        return FakeClient.cmd(fake, targets, fun, **kwargs)

    monkeypatch.setattr(fake, "cmd", cmd)
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    monkeypatch.setattr(cluster.time, "sleep", lambda seconds: None)
    monkeypatch.setitem(cluster.__opts__, "platform_verify_settle", 30)
    result = cluster.up()
    assert result["retcode"] == 0, result.get("comment", result)
    assert len(checks) == 2


def test_validate_reports_problems_without_printing_the_pillar(repo_pillar):
    assert cluster.validate() == {"result": True, "retcode": 0, "comment": "pillar topology is valid"}
    repo_pillar["platform"]["vip"] = "10.0.0.20"
    result = cluster.validate()
    assert result["retcode"] == 1
    assert result["errors"] == ["platform:vip: 10.0.0.20 is not on the load balancers' network 192.168.33.0/24"]
    assert "pillar" not in result and "'platform'" not in str(result)


def test_pillar_render_errors_stop_everything(client, repo_pillar):
    repo_pillar["_errors"] = ["Rendering SLS 'platform' failed: mapping values are not allowed here"]
    result = cluster.up()
    assert result["retcode"] == 1
    assert "pillar did not render: Rendering SLS 'platform' failed" in result["comment"]
    assert client.calls == []


def test_plan_without_arguments_reads_pillar():
    assert [step["step"] for step in cluster.plan()][:2] == ["artifacts", "registry"]


def _chunk(state_id: str, result, changes=None, comment="", run_num=0) -> dict:
    return {
        "__id__": state_id,
        "__sls__": "consul.config",
        "__run_num__": run_num,
        "name": f"/etc/{state_id}",
        "result": result,
        "changes": changes or {},
        "comment": comment,
    }


class DriftClient(FakeClient):
    """state.apply test=True answers per node; a highstate (fix) changes what drifted."""

    def __init__(self, returns: dict):
        super().__init__()
        self.returns = returns
        self.fixed: list[str] = []

    def cmd_iter(self, targets, fun, arg=(), kwarg=None, tgt_type="list", timeout=None):
        for node in targets:
            if kwarg.get("test"):
                if node in self.returns:
                    yield {node: {"ret": self.returns[node], "retcode": 0}}
            else:
                self.fixed.append(node)
                yield {node: {"ret": {"f": _chunk("consul-config-file-managed", True, {"diff": "-x"})}, "retcode": 0}}


CLEAN = {"f": _chunk("consul-config-file-managed", True)}
DRIFTED = {
    "file_|-consul-config-file-managed_|-/etc/consul.d/platform.json_|-managed": _chunk(
        "consul-config-file-managed", None, {"diff": "-// edited"}, "set to be changed", 1
    ),
    "service_|-consul-service-running_|-consul_|-running": _chunk(
        "consul-service-running", None, {}, "Service is set to be restarted", 2
    ),
    "pkg_|-zookeeper-package-installed_|-zookeeperd_|-installed": _chunk("zookeeper-package-installed", True),
}


def test_drift_names_each_pending_state_with_its_diff_and_exits_2(monkeypatch):
    nodes = ["lb1", "lb2", "mm1", "mm2", "mm3", "ms1", "ms2", "ms3", "ms4", "registry"]
    fake = DriftClient({node: (DRIFTED if node == "ms2" else CLEAN) for node in nodes})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    result = cluster.drift()
    data = result["data"]
    assert result["outputter"] == "platform_drift"
    assert data["retcode"] == 2 and cluster.__context__["retcode"] == 2
    assert {node: v["status"] for node, v in data["nodes"].items() if v["status"] != "clean"} == {"ms2": "drifted"}
    assert [(s["id"], s["function"], s["change"]) for s in data["nodes"]["ms2"]["states"]] == [
        ("consul-config-file-managed", "file.managed", "-// edited"),
        ("consul-service-running", "service.running", "Service is set to be restarted"),
    ]
    assert data["summary"] == "10 nodes: 9 clean, 1 drifted (ms2)"
    assert fake.fixed == []


def test_drift_fix_applies_the_highstate_on_the_drifted_nodes_only(monkeypatch):
    fake = DriftClient({node: (DRIFTED if node in ("ms2", "lb2") else CLEAN) for node in ["lb1", "lb2", "ms2"]})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    data = cluster.drift(tgt="lb*,ms2", fix=True)["data"]
    assert sorted(fake.fixed) == ["lb2", "ms2"]
    assert data["retcode"] == 0
    assert data["nodes"]["ms2"]["status"] == "fixed"
    assert data["nodes"]["ms2"]["fixed"][0]["id"] == "consul-config-file-managed"
    assert data["nodes"]["lb1"]["status"] == "clean"


@pytest.mark.parametrize(
    ("node_return", "status"),
    [
        (["Rendering SLS 'base:consul' failed: mapping values are not allowed"], "render-error"),
        (['The function "state.apply" is running as PID 8222 and was started at ...'], "failed"),
        ({"f": _chunk("consul-service-running", False, comment="Service consul failed to start")}, "failed"),
    ],
)
def test_drift_errors_exit_1(monkeypatch, node_return, status):
    fake = DriftClient({"ms1": node_return, "ms2": CLEAN})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    data = cluster.drift(tgt="ms1,ms2")["data"]
    assert data["nodes"]["ms1"]["status"] == status
    assert data["retcode"] == 1


def test_drift_counts_a_silent_node_as_unreachable(monkeypatch):
    fake = DriftClient({"ms2": CLEAN})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    data = cluster.drift(tgt="ms1,ms2")["data"]
    assert data["nodes"]["ms1"] == {"status": "unreachable", "states": [], "errors": ["no answer"]}
    assert data["retcode"] == 1


def test_drift_of_an_unknown_target_checks_nothing(client):
    result = cluster.drift(tgt="nope*")
    assert result["retcode"] == 1
    assert "tgt='nope*' matches no node of pillar platform:nodes" in result["comment"]
    assert client.calls == []


def test_drift_last_reads_the_newest_scheduled_check_per_node(client, monkeypatch):
    jobs = {
        "20261126100000000000": {"Function": "state.apply", "Arguments": [{"test": True, "queue": True}],
                                 "StartTime": "2026, Nov 26 10:00:00.000000"},
        "20261126110000000000": {"Function": "state.apply", "Arguments": [{"test": True, "__kwarg__": True}],
                                 "StartTime": "2026, Nov 26 11:00:00.000000"},
        "20261126090000000000": {"Function": "state.apply", "Arguments": [{"test": True, "queue": True}],
                                 "StartTime": "2026, Nov 26 09:00:00.000000"},
    }  # fmt: skip
    results = {
        "20261126100000000000": {"ms2": {"return": DRIFTED}},
        "20261126090000000000": {"ms2": {"return": CLEAN}, "ms1": {"return": CLEAN}},
    }
    monkeypatch.setitem(cluster.__salt__, "jobs.list_jobs", lambda: jobs)
    monkeypatch.setitem(cluster.__salt__, "jobs.list_job", lambda jid: {"Result": results.get(jid, {})})
    data = cluster.drift(tgt="ms1,ms2,ms3", last=True)["data"]
    assert data["nodes"]["ms2"]["status"] == "drifted"
    assert data["nodes"]["ms2"]["checked_at"] == "2026-11-26 10:00:00"
    assert data["nodes"]["ms1"]["status"] == "clean"
    assert data["nodes"]["ms3"]["status"] == "unknown"
    assert data["retcode"] == 1
    assert client.calls == []


def test_drift_report_prints_the_diff_under_the_state(monkeypatch):
    fake = DriftClient({"ms2": DRIFTED})
    monkeypatch.setattr(cluster, "_local_client", lambda: fake)
    text = platform_drift.output(cluster.drift(tgt="ms2")["data"])
    assert text.splitlines()[:3] == [
        "ms2: drifted",
        "  consul-config-file-managed (file.managed) /etc/consul-config-file-managed",
        "    -// edited",
    ]
    assert text.splitlines()[-1].startswith("1 node: 0 clean, 1 drifted (ms2) in ")


def test_a_site_without_secrets_is_refused_with_the_fix_and_nothing_is_applied(client):
    cluster.__utils__["site_secrets.load"] = lambda path: {}
    result = cluster.up(test=True)
    assert result["retcode"] == 1
    assert "no value yet for secret(s)" in result["comment"] and "run `salt-run site.secrets`" in result["comment"]
    assert client.applied == []
