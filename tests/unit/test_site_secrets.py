"""The site's secrets: generated once, stored 0600, each node given only what its roles use."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import pathlib
import stat
import uuid

import bcrypt
import pytest
import salt.client
import salt.utils.dictupdate
import site_secrets
from salt.exceptions import SaltInvocationError

# _runners/site.py: `import site` would give Python's own module, loaded at start-up.
_SPEC = importlib.util.spec_from_file_location(
    "site_runner", pathlib.Path(__file__).resolve().parents[2] / "_runners" / "site.py"
)
site_runner = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(site_runner)


@pytest.fixture
def store(repo_pillar):
    """A full store for the repository's catalog."""
    return {s.key: site_secrets.new_entry(s) for s in site_secrets.catalog(repo_pillar)}


def test_the_catalog_makes_one_app_secret_per_environment(repo_pillar):
    keys = [s.key for s in site_secrets.catalog(repo_pillar)]
    nodes = sorted(repo_pillar["platform"]["nodes"])
    assert keys == [
        "app_secret_key/test", "app_secret_key/production",
        *(f"consul_agent_token/{node}" for node in nodes), "consul_gossip_key",
        "consul_master_token", "consul_reader_token", "consul_registrator_token", "consul_template_token",
        "marathon_http_password",
        "mesos_agent_secret", "mesos_marathon_secret", "mesos_operator_secret", "registry_builder_password",
        "registry_pull_password", "vrrp_password", "zookeeper_admin_password", "zookeeper_marathon_password",
        "zookeeper_mesos_password",
    ]  # fmt: skip


def test_values_have_the_form_their_users_need(repo_pillar, store):
    assert len(base64.b64decode(store["consul_gossip_key"]["value"])) == 32  # `consul keygen`
    assert len(store["vrrp_password"]["value"]) == 8  # keepalived reads 8 characters
    assert len(store["app_secret_key/test"]["value"]) >= 40
    assert store["app_secret_key/test"]["value"] != store["app_secret_key/production"]["value"]
    assert str(uuid.UUID(store["consul_agent_token/ms1"]["value"])) == store["consul_agent_token/ms1"]["value"]
    assert store["consul_agent_token/ms1"]["value"] != store["consul_agent_token/ms2"]["value"]


def test_a_node_receives_only_what_its_roles_use(repo_pillar, store):
    def value(key: str) -> str:
        return store[key]["value"]

    def consul(node_id: str, *tokens: str, agent_tokens: list[str] | None = None) -> dict:
        acl = {f"{token}_token": value(f"consul_{token}_token") for token in tokens}
        acl["agent_tokens"] = {n: value(f"consul_agent_token/{n}") for n in agent_tokens or [node_id]}
        return {"encrypt": value("consul_gossip_key"), "acl": acl}

    ms3 = site_secrets.for_node("ms3", repo_pillar, store)
    lb1 = site_secrets.for_node("lb1", repo_pillar, store)
    mm1 = site_secrets.for_node("mm1", repo_pillar, store)
    assert ms3 == {
        "app": {"environments": {"production": {"secret_key": value("app_secret_key/production")}}},
        "consul": consul("ms3", "registrator"),  # its own agent token, no other
        "mesos": {"credentials": {"agent": value("mesos_agent_secret")}},
        "registry": {"clients": {"pull": value("registry_pull_password")}},
    }
    # The registry node checks passwords against hashes, and pushes as the image builder.
    registry = site_secrets.for_node("registry", repo_pillar, store)["registry"]
    assert registry["clients"] == {"builder": value("registry_builder_password")}
    assert registry["htpasswd"] == {
        "builder": store["registry_builder_password"]["hash"],
        "pull": store["registry_pull_password"]["hash"],
    }
    assert bcrypt.checkpw(value("registry_pull_password").encode(), registry["htpasswd"]["pull"].encode())
    assert registry["htpasswd"]["pull"].startswith("$2b$05$")  # htpasswd -B's work factor
    # A master (Mesos, Marathon, ZooKeeper, a Consul server that makes every token) holds
    # every Mesos principal, both digests and every node's agent token.
    assert mm1 == {
        "consul": consul(
            "mm1", "master", "reader", "registrator", "template", agent_tokens=sorted(repo_pillar["platform"]["nodes"])
        ),
        "mesos": {
            "credentials": {
                "agent": value("mesos_agent_secret"),
                "marathon": value("mesos_marathon_secret"),
                "operator": value("mesos_operator_secret"),
            },
            "zk_password": value("zookeeper_mesos_password"),
            "zk_digest": store["zookeeper_mesos_password"]["hash"],
        },
        "marathon": {
            "http_password": value("marathon_http_password"),
            "zk_password": value("zookeeper_marathon_password"),
            "zk_digest": store["zookeeper_marathon_password"]["hash"],
        },
        "zookeeper": {
            "admin_password": value("zookeeper_admin_password"),
            "admin_digest": store["zookeeper_admin_password"]["hash"],
        },
        "registry": {"clients": {"pull": value("registry_pull_password")}},  # registrator's image
    }
    assert lb1 == {
        "consul": consul("lb1", "template"),
        "keepalived": {"auth_pass": store["vrrp_password"]["value"]},
        "registry": {"clients": {"pull": value("registry_pull_password")}},  # nginx's image
    }
    # Only an environment's agents receive its app secret (next test); a minion outside the
    # topology receives nothing.
    agents = {"ms1", "ms2", "ms3", "ms4"}
    for node_id in set(repo_pillar["platform"]["nodes"]) - agents:
        assert "app" not in site_secrets.for_node(node_id, repo_pillar, store)
    assert site_secrets.for_node("intruder", repo_pillar, store) == {}


def test_the_runners_hold_every_secret_and_the_pillar_they_were_given_is_untouched(repo_pillar, store):
    merged = site_secrets.for_runners(repo_pillar, store)
    assert merged["marathon"]["http_password"] == store["marathon_http_password"]["value"]
    assert merged["mesos"]["credentials"]["operator"] == store["mesos_operator_secret"]["value"]
    assert merged["app"]["environments"]["production"]["secret_key"] == store["app_secret_key/production"]["value"]
    assert "http_password" not in repo_pillar.get("marathon", {})
    del store["mesos_operator_secret"]
    with pytest.raises(
        SaltInvocationError, match="no value yet for secret mesos_operator_secret: run `salt-run site.secrets`"
    ):
        site_secrets.for_runners(repo_pillar, store)


def test_a_per_environment_secret_goes_only_to_its_environment(repo_pillar, store):
    ms1 = site_secrets.for_node("ms1", repo_pillar, store)
    ms3 = site_secrets.for_node("ms3", repo_pillar, store)
    assert ms1["app"] == {"environments": {"test": {"secret_key": store["app_secret_key/test"]["value"]}}}
    assert ms3["app"] == {"environments": {"production": {"secret_key": store["app_secret_key/production"]["value"]}}}


def test_a_bad_per_node_entry_is_named(repo_pillar):
    repo_pillar["secrets"]["consul_agent_token"]["pillar"] = "consul:acl:agent_token"
    with pytest.raises(SaltInvocationError, match=r"consul_agent_token: a per-node secret needs \{node\}"):
        site_secrets.catalog(repo_pillar)
    repo_pillar["secrets"]["consul_agent_token"]["per"] = "rack"
    with pytest.raises(
        SaltInvocationError, match="consul_agent_token:per is 'rack'; it must be one of environment, node"
    ):
        site_secrets.catalog(repo_pillar)


def test_a_secret_set_in_sls_pillar_is_refused(repo_pillar, store):
    repo_pillar = salt.utils.dictupdate.merge(repo_pillar, {"keepalived": {"auth_pass": "vrrp-lab"}})
    with pytest.raises(SaltInvocationError, match="keepalived:auth_pass set in SLS pillar.*remove the value"):
        site_secrets.for_node("lb1", repo_pillar, store)


def test_a_secret_without_a_value_is_refused_with_the_fix(repo_pillar, store):
    del store["vrrp_password"]
    with pytest.raises(
        SaltInvocationError, match=r"no value yet for secret\(s\) vrrp_password: run `salt-run site.secrets`"
    ):
        site_secrets.for_node("ms3", repo_pillar, store)


def test_a_zookeeper_server_receives_its_clients_digests_not_their_passwords(repo_pillar, store):
    # ZooKeeper on a node of its own: it makes /mesos and /marathon for digests it cannot use.
    repo_pillar["platform"]["nodes"]["mm1"]["roles"] = ["zookeeper"]
    zookeeper_only = site_secrets.for_node("mm1", repo_pillar, store)
    password = store["zookeeper_marathon_password"]["value"]
    expected = base64.b64encode(hashlib.sha1(f"marathon:{password}".encode()).digest()).decode()
    assert zookeeper_only["marathon"] == {"zk_digest": f"marathon:{expected}"}
    assert zookeeper_only["mesos"] == {"zk_digest": store["zookeeper_mesos_password"]["hash"]}
    assert zookeeper_only["mesos"]["zk_digest"].startswith("mesos:")
    assert set(zookeeper_only["zookeeper"]) == {"admin_password", "admin_digest"}


def test_the_masters_own_pillar_renders_before_the_store_exists(repo_pillar):
    # salt-run site.secrets renders the master's pillar to read the catalog: no node, no secret.
    assert site_secrets.for_node("lab-host_master", repo_pillar, {}) == {}


def test_a_bad_catalog_entry_is_named(repo_pillar):
    repo_pillar["secrets"]["vrrp_password"]["kind"] = "guessable"
    with pytest.raises(SaltInvocationError, match="secrets:vrrp_password:kind is 'guessable'"):
        site_secrets.catalog(repo_pillar)


def test_the_store_is_private_to_its_owner(tmp_path, store):
    path = tmp_path / "state" / "secrets.yaml"
    site_secrets.save(str(path), store)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert site_secrets.load(str(path)) == store
    assert site_secrets.load(str(tmp_path / "absent.yaml")) == {}


@pytest.fixture
def runner(tmp_path, repo_pillar, monkeypatch, runner_utils):
    path = tmp_path / "secrets.yaml"
    applied = []

    class Client:
        def cmd(self, targets, fun, **kwargs):
            targets = [targets] if isinstance(targets, str) else targets
            if fun == "test.ping":
                return {node: True for node in targets if node not in silent}
            applied.append((fun, tuple(targets)))
            return {node: {"state": {"result": True, "__id__": "state"}} for node in targets}

    silent: set[str] = set()

    monkeypatch.setattr(salt.client, "get_local_client", lambda conf_file: Client())
    deployed = []
    monkeypatch.setattr(
        site_runner, "__opts__", {"site_secrets_file": str(path), "conf_file": "/dev/null"}, raising=False
    )
    monkeypatch.setattr(site_runner, "__utils__", runner_utils, raising=False)
    monkeypatch.setattr(site_runner, "__context__", {}, raising=False)
    monkeypatch.setattr(
        site_runner,
        "__salt__",
        {
            "pillar.show_pillar": lambda: repo_pillar,
            "cluster.validate": lambda: {"retcode": 0},
            "app.redeploy": lambda env: deployed.append(env) or {"retcode": 0},
        },
        raising=False,
    )
    return path, applied, deployed, silent


def test_secrets_are_generated_once_and_kept(runner):
    path, applied, _, _ = runner
    first = site_runner.secrets()
    assert first["retcode"] == 0 and {row["state"] for row in first["secrets"]} == {"generated"}
    values = site_secrets.load(str(path))
    second = site_runner.secrets()
    assert {row["state"] for row in second["secrets"]} == {"kept"}
    assert site_secrets.load(str(path)) == values
    # Nothing printed holds a value.
    assert not any(entry["value"] in str(first) + str(second) for entry in values.values())
    assert applied == []


def test_rotating_one_secret_changes_only_it_and_reconverges_its_nodes(runner):
    path, applied, deployed, _ = runner
    site_runner.secrets()
    before = site_secrets.load(str(path))
    result = site_runner.secrets(rotate="vrrp_password")
    after = site_secrets.load(str(path))
    assert result["retcode"] == 0, result["comment"]
    assert after["vrrp_password"]["value"] != before["vrrp_password"]["value"]
    assert {k: v for k, v in after.items() if k != "vrrp_password"} == {
        k: v for k, v in before.items() if k != "vrrp_password"
    }
    # One node at a time: the keepalived pair disagrees only during one node's run.
    assert applied == [("state.apply", ("lb1",)), ("state.apply", ("lb2",))] and deployed == []


def test_rotating_an_app_secret_reaches_its_environments_agents_then_redeploys_it(runner):
    _, applied, deployed, _ = runner
    site_runner.secrets()
    assert site_runner.secrets(rotate="app_secret_key/production")["retcode"] == 0
    assert applied == [("state.apply", ("ms3",)), ("state.apply", ("ms4",))] and deployed == ["production"]


def test_rotating_a_consul_token_converges_the_servers_that_make_it_before_its_holders(runner):
    _, applied, _, _ = runner
    site_runner.secrets()
    assert site_runner.secrets(rotate="consul_agent_token/ms4")["retcode"] == 0
    assert [nodes for _, nodes in applied] == [("mm1",), ("mm2",), ("mm3",), ("ms4",)]
    applied.clear()
    assert site_runner.secrets(rotate="consul_template_token")["retcode"] == 0
    assert [nodes for _, nodes in applied] == [("mm1",), ("mm2",), ("mm3",), ("lb1",), ("lb2",)]


def test_rotating_the_gossip_key_converges_the_servers_first_then_every_other_member(runner):
    _, applied, _, _ = runner
    site_runner.secrets()
    assert site_runner.secrets(rotate="consul_gossip_key")["retcode"] == 0
    nodes = [node for _, (node,) in applied]
    assert nodes[:3] == ["mm1", "mm2", "mm3"]  # mm1, the first server, rotates the keyring
    assert sorted(nodes) == sorted(site_runner.__salt__["pillar.show_pillar"]()["platform"]["nodes"])


def test_rotation_that_is_not_built_or_unknown_is_refused_and_changes_nothing(runner):
    path, applied, _, _ = runner
    site_runner.secrets()
    before = site_secrets.load(str(path))
    digest = site_runner.secrets(rotate="zookeeper_marathon_password")
    management = site_runner.secrets(rotate="consul_master_token")
    unknown = site_runner.secrets(rotate="root_password")
    assert digest["retcode"] == 1 and "lock its holders out of their own znodes" in digest["comment"]
    assert management["retcode"] == 1 and "management token" in management["comment"]
    assert unknown["retcode"] == 1 and "known: app_secret_key" in unknown["comment"]
    assert site_secrets.load(str(path)) == before and applied == []


def test_a_rotation_is_refused_unchanged_while_a_receiving_node_is_silent(runner):
    path, applied, _, silent = runner
    site_runner.secrets()
    before = site_secrets.load(str(path))
    silent.add("lb2")
    result = site_runner.secrets(rotate="vrrp_password")
    assert result["retcode"] == 1 and "nodes not answering: lb2" in result["comment"]
    assert "nothing was changed" in result["comment"]
    assert site_secrets.load(str(path)) == before and applied == []


def test_a_stored_password_without_its_hash_gets_one_and_keeps_its_value(runner):
    path, applied, _, _ = runner
    site_runner.secrets()
    store = site_secrets.load(str(path))
    password = store["registry_pull_password"]["value"]
    del store["registry_pull_password"]["hash"]
    site_secrets.save(str(path), store)
    with pytest.raises(SaltInvocationError, match="registry_pull_password: run `salt-run site.secrets`"):
        site_secrets.for_node("ms1", site_runner.__salt__["pillar.show_pillar"](), store)
    result = site_runner.secrets()
    after = site_secrets.load(str(path))["registry_pull_password"]
    assert after["value"] == password and bcrypt.checkpw(password.encode(), after["hash"].encode())
    assert [row for row in result["secrets"] if "hashed" in row.values()]
    assert applied == []


def test_rotating_a_hashed_password_converges_the_node_checking_it_first(runner):
    _, applied, _, _ = runner
    site_runner.secrets()
    assert site_runner.secrets(rotate="registry_pull_password")["retcode"] == 0
    order = [targets[0] for fun, targets in applied if fun == "state.apply"]
    assert order[0] == "registry" and order.count("registry") == 1
    assert {"ms1", "lb1", "mm1"} <= set(order)  # the pull user's holders follow
