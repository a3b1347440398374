"""Pillar validation: every bad topology is rejected with the field and the nodes named."""

from __future__ import annotations

import re

import pytest
import topology


@pytest.fixture
def configure_loader_modules(repo_pillar, topology_funcs):
    return {topology: {"__pillar__": repo_pillar, "__grains__": {"id": "mm2"}, "__salt__": topology_funcs}}


def errors_of(pillar: dict) -> list[str]:
    return topology.errors(platform=pillar["platform"], components=pillar)


def test_repo_pillar_is_valid(repo_pillar):
    assert errors_of(repo_pillar) == []


def test_errors_reads_pillar_when_called_without_arguments(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms2"]["ip"] = "192.168.33.14"
    assert any("192.168.33.14" in problem for problem in topology.errors())


def test_duplicate_ip_names_both_nodes(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms2"]["ip"] = "192.168.33.14"
    assert errors_of(repo_pillar) == ["platform:nodes: duplicate ip 192.168.33.14 on nodes ms1, ms2"]


def test_duplicate_hostname_names_both_nodes(repo_pillar):
    repo_pillar["platform"]["nodes"]["lb2"]["hostname"] = "lb1.localdomain"
    assert errors_of(repo_pillar) == ["platform:nodes: duplicate hostname lb1.localdomain on nodes lb1, lb2"]


def test_unknown_role_is_named_with_the_known_ones(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms3"]["roles"].append("mesos-agnet")
    [problem] = errors_of(repo_pillar)
    assert problem.startswith("platform:nodes:ms3:roles: unknown role(s) mesos-agnet; known roles: consul-agent")


def test_environment_without_agents(repo_pillar):
    repo_pillar["platform"]["environments"].append("staging")
    assert errors_of(repo_pillar) == [
        "platform:environments: environment staging has no agents (give a mesos-agent node env: staging)"
    ]


def test_agent_in_undeclared_environment(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms4"]["env"] = "prod"
    problems = errors_of(repo_pillar)
    assert "platform:nodes:ms4:env: 'prod' is not one of platform:environments (test, production)" in problems


def test_nfs_server_that_is_not_an_agent(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms1"]["roles"].remove("nfs-server")
    repo_pillar["platform"]["nodes"]["registry"]["roles"].append("nfs-server")
    assert errors_of(repo_pillar) == [
        "platform:nodes:registry:roles: nfs-server must also be a mesos-agent (the app's data lives on an agent)"
    ]


def test_nfs_clients_without_a_server(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms1"]["roles"].remove("nfs-server")
    [problem] = errors_of(repo_pillar)
    assert problem == "platform:nodes: nfs-client nodes (ms2, ms3, ms4) need exactly one nfs-server, found 0 (none)"


def test_each_environment_s_nfs_clients_are_its_own_agents(repo_pillar):
    assert topology.nfs_clients(repo_pillar["platform"]) == {
        "test": ["192.168.33.15"],
        "production": ["192.168.33.16", "192.168.33.21"],
    }


def test_nfs_client_that_is_not_an_agent(repo_pillar):
    """A client mounts its environment's export: a node with no env has none to mount."""
    repo_pillar["platform"]["nodes"]["lb1"]["roles"].append("nfs-client")
    assert errors_of(repo_pillar) == [
        "platform:nodes:lb1:roles: nfs-client must also be a mesos-agent (it mounts the data directory of its "
        "agent's env)"
    ]


@pytest.mark.parametrize("role", ["zookeeper", "consul-server"])
def test_even_quorum_set(repo_pillar, role):
    repo_pillar["platform"]["nodes"]["ms1"]["roles"].append(role)
    repo_pillar["platform"]["nodes"]["ms1"]["zookeeper_id"] = 4
    assert (
        f"platform:nodes: role {role} needs an odd number of at least 3 nodes for a quorum, "
        "found 4 (mm1, mm2, mm3, ms1)"
    ) in errors_of(repo_pillar)


@pytest.mark.parametrize("role", ["zookeeper", "consul-server"])
def test_too_small_quorum_set(repo_pillar, role):
    for node_id in ("mm2", "mm3"):
        repo_pillar["platform"]["nodes"][node_id]["roles"].remove(role)
    assert (
        f"platform:nodes: role {role} needs an odd number of at least 3 nodes for a quorum, found 1 (mm1)"
    ) in errors_of(repo_pillar)


def test_duplicate_zookeeper_id(repo_pillar):
    repo_pillar["platform"]["nodes"]["mm3"]["zookeeper_id"] = 2
    assert errors_of(repo_pillar) == ["platform:nodes: duplicate zookeeper_id 2 on nodes mm2, mm3"]


def test_vip_off_the_network(repo_pillar):
    repo_pillar["platform"]["vip"] = "10.0.0.20"
    assert errors_of(repo_pillar) == ["platform:vip: 10.0.0.20 is not on the load balancers' network 192.168.33.0/24"]


def test_vip_that_is_a_node_address(repo_pillar):
    repo_pillar["platform"]["vip"] = "192.168.33.17"
    assert errors_of(repo_pillar) == ["platform:vip: 192.168.33.17 is also the ip of node(s) lb1"]


def test_node_off_the_network(repo_pillar):
    repo_pillar["platform"]["nodes"]["lb2"]["ip"] = "192.168.34.18"
    assert errors_of(repo_pillar) == [
        "platform:nodes:lb2:ip: 192.168.34.18 is outside platform:network 192.168.33.0/24"
    ]


def test_equal_vrrp_priorities(repo_pillar):
    repo_pillar["platform"]["nodes"]["lb2"]["vrrp_priority"] = 150
    assert errors_of(repo_pillar) == [
        "platform:nodes: keepalived nodes lb1, lb2 share vrrp_priority 150; give each a distinct one"
    ]


def test_missing_version_names_the_component_and_its_nodes(repo_pillar):
    del repo_pillar["zookeeper"]["version"]
    assert errors_of(repo_pillar) == [
        "zookeeper:version: missing (needed by mm1, mm2, mm3); pin it in pillar/components.sls"
    ]


def test_missing_component_block(repo_pillar):
    del repo_pillar["keepalived"]
    assert errors_of(repo_pillar) == [
        "keepalived:version: missing (needed by lb1, lb2); pin it in pillar/components.sls"
    ]


def test_a_site_without_a_mesos_repository_is_refused(repo_pillar):
    """No Debian release carries Mesos or Marathon: without the site's repository nothing could install them."""
    repo_pillar["mesos"]["repo"] = ""
    assert errors_of(repo_pillar) == [
        "mesos:repo: empty (needed by mm1, mm2, mm3, ms1, ms2, ms3, ms4); set it in this site's pillar to the apt "
        "line of the repository that carries Mesos and Marathon, with mesos:repo_key_url for its signing key"
    ]


def test_several_problems_are_all_reported(repo_pillar):
    repo_pillar["platform"]["nodes"]["ms2"]["ip"] = "192.168.33.14"
    repo_pillar["platform"]["vip"] = "not-an-ip"
    assert len(errors_of(repo_pillar)) == 2


def test_nodes_by_role_are_sorted_with_fqdn(repo_pillar):
    zk = topology.nodes("zookeeper")
    assert list(zk) == ["mm1", "mm2", "mm3"]
    assert zk["mm2"]["fqdn"] == "mm2.localdomain"
    assert zk["mm2"]["zookeeper_id"] == 2


def test_states_follow_roles_without_repeats():
    assert topology.states("ms1") == ["common", "docker", "mesos.agent", "app", "nfs.server", "consul", "registrator"]
    assert topology.states() == ["common", "zookeeper", "consul", "mesos.master", "marathon", "docker", "registrator"]


def test_component_is_the_pillar_as_merged_no_site_block_is_read(repo_pillar):
    repo_pillar["nfs"]["lab"] = {"export": "/elsewhere"}
    assert topology.component("nfs")["export"] == "/data"
    repo_pillar["nfs"]["export"] = "/srv/shared"
    assert topology.component("nfs")["export"] == "/srv/shared"


def test_registry_address_is_the_pull_listener_unless_asked_for_the_push_one(repo_pillar):
    assert topology.registry() == "registry.localdomain:5001"
    assert topology.registry(access="push") == "registry.localdomain:5000"
    with pytest.raises(topology.CommandExecutionError, match="pull or push, not 'write'"):
        topology.registry(access="write")
    del repo_pillar["registry"]["listeners"]["pull"]
    with pytest.raises(topology.CommandExecutionError, match="no registry:listeners:pull:port"):
        topology.registry()


def test_app_pillar_problems_are_named_field_by_field(repo_pillar):
    del repo_pillar["app"]["version"]
    repo_pillar["app"]["mem"] = "lots"
    repo_pillar["app"]["environments"]["staging"] = {"instances": 2}
    repo_pillar["app"]["environments"]["test"]["instances"] = 0
    assert errors_of(repo_pillar) == [
        "app:version is missing",
        "app:mem is 'lots'; it must be a int or float",
        "app:environments:test:instances is 0; it must be a whole number >= 1",
        "app:environments:staging is not an environment of platform:environments",
    ]


def test_app_version_must_be_a_string_so_yaml_cannot_turn_1_10_into_1_1(repo_pillar):
    repo_pillar["app"]["version"] = 1.1
    assert errors_of(repo_pillar) == ["app:version is 1.1; it must be a str (quote it in YAML)"]


def test_an_instance_must_drain_before_it_is_killed(repo_pillar):
    repo_pillar["app"]["drain_seconds"] = repo_pillar["app"]["kill_grace_period_seconds"]
    assert errors_of(repo_pillar) == [
        f"app:drain_seconds is {repo_pillar['app']['drain_seconds']}; it must be less than "
        f"app:kill_grace_period_seconds ({repo_pillar['app']['kill_grace_period_seconds']}), "
        "or SIGKILL cuts the drain and the requests in flight"
    ]


def test_the_ca_node_is_the_first_whose_roles_bring_the_ca_formula(repo_pillar):
    assert topology.ca_node() == "registry"
    repo_pillar["platform"]["roles"]["registry"]["states"].remove("ca")
    assert topology.ca_node() is None


def test_the_app_is_served_under_each_environments_short_and_full_name():
    assert topology.app_hostnames() == [
        "app-test",
        "app-test.localdomain",
        "app-production",
        "app-production.localdomain",
    ]


def _rules(node_id: str, pillar: dict) -> dict[str, dict]:
    return {rule["service"]: rule for rule in topology.firewall_rules(node_id, pillar)}


def test_a_node_opens_only_what_its_roles_serve_to_whom_they_serve_it(repo_pillar):
    network = repo_pillar["platform"]["network"]
    masters = ["192.168.33.11", "192.168.33.12", "192.168.33.13"]
    mm1 = _rules("mm1", repo_pillar)
    assert set(mm1) == {
        "ssh", "ping", "zookeeper-clients", "zookeeper-quorum", "consul-servers", "consul-wan", "consul-lan",
        "consul-https", "mesos-master", "marathon", "marathon-scheduler",
    }  # fmt: skip
    assert mm1["zookeeper-clients"] == {
        "service": "zookeeper-clients", "sources": [network], "tcp": [2181], "udp": [], "icmp": [], "protocol": None,
        "forwarded": False,
    }  # fmt: skip
    assert (mm1["zookeeper-quorum"]["tcp"], mm1["zookeeper-quorum"]["sources"]) == ([2888, 3888], masters)
    assert (mm1["marathon-scheduler"]["tcp"], mm1["marathon-scheduler"]["sources"]) == ([15050], masters)
    assert mm1["ssh"]["sources"] == []  # from anywhere
    lb2 = _rules("lb2", repo_pillar)
    assert set(lb2) == {"ssh", "ping", "consul-lan", "consul-https", "app", "vrrp"}
    assert (lb2["app"]["tcp"], lb2["app"]["sources"]) == ([80, 443], [])
    assert (lb2["vrrp"]["protocol"], lb2["vrrp"]["sources"]) == (112, ["192.168.33.17", "192.168.33.18"])
    ms1 = _rules("ms1", repo_pillar)
    clients = sorted(n["ip"] for n in topology.nodes("nfs-client", repo_pillar["platform"]).values())
    assert (ms1["nfs"]["tcp"], ms1["nfs"]["sources"]) == ([2049], clients)
    assert ms1["mesos-agent"]["tcp"] == [5051]
    assert "nfs" not in _rules("ms2", repo_pillar)
    # The tasks' host ports: Docker forwards them; only the load balancers and Marathon reach them.
    tasks = _rules("ms2", repo_pillar)["app-tasks"]
    lbs_and_marathons = ["192.168.33.11", "192.168.33.12", "192.168.33.13", "192.168.33.17", "192.168.33.18"]
    assert (tasks["tcp"], tasks["sources"], tasks["forwarded"]) == (["31000-32000"], lbs_and_marathons, True)
    assert "app-tasks" not in mm1


def test_a_port_follows_the_setting_it_names(repo_pillar):
    repo_pillar["consul"]["tls"] = {"https_port": 9501}
    assert _rules("ms2", repo_pillar)["consul-https"]["tcp"] == [9501]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("from", "everyone", "firewall:services:marathon:from is 'everyone': use one of platform, peers, anywhere"),
        ("from", ["lb", "nope"], "firewall:services:marathon:from is ['lb', 'nope']: use one of platform, peers"),
        ("tcp", ["marathon:nope"], "firewall:services:marathon: 'marathon:nope' is no port: not a number or a range"),
        ("tcp", ["32000-31000"], "firewall:services:marathon: '32000-31000' is no port: not a number or a range"),
        ("protocol", "ospf", "firewall:services:marathon:protocol is 'ospf': one of vrrp"),
    ],
)
def test_a_service_it_cannot_resolve_is_named(repo_pillar, field, value, message):
    repo_pillar["firewall"] = {"services": {"marathon": {field: value}}}
    with pytest.raises(topology.CommandExecutionError, match=re.escape(message)):
        topology.firewall_rules("mm1", repo_pillar)
    [problem] = errors_of(repo_pillar)
    assert problem.startswith(message)
