"""The highstate of every node renders from the real pillar, with the content it must have."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess

import pytest
import yaml

from tests.conftest import PRODUCTION_SITE_PILLAR, REPO, load_repo_pillar, with_site

from .conftest import NODE_IDS, SITE_SECRETS, render_node

PILLAR = load_repo_pillar()
PLATFORM = PILLAR["platform"]


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_highstate_renders_every_formula_of_the_roles(rendered, node_id):
    highstate = rendered[node_id].highstate
    assert isinstance(highstate, dict), f"{node_id} did not render: {highstate}"
    rendered_sls = {chunk["__sls__"].split(".")[0] for chunk in highstate.values()}
    # common includes the drift check's schedule (drift) and the firewall on every node.
    wanted = {"common", "drift", "firewall"} | {
        sls.split(".")[0] for role in PLATFORM["nodes"][node_id]["roles"] for sls in PLATFORM["roles"][role]["states"]
    }
    assert rendered_sls == wanted


@pytest.mark.parametrize("site", ["production", "lab"])
@pytest.mark.parametrize("node_id", NODE_IDS)
def test_every_state_function_and_requisite_resolves(rendered, rendered_lab, node_id, site):
    node = (rendered if site == "production" else rendered_lab)[node_id]
    dry_run = node.dry_run
    assert isinstance(dry_run, dict), f"{node_id} did not compile: {dry_run}"
    failed = {chunk["__id__"]: chunk["comment"] for chunk in dry_run.values() if chunk["result"] is False}
    assert failed == {}
    assert len(dry_run) == len(node.highstate)


@pytest.mark.parametrize("site", ["production", "lab"])
def test_every_formulas_clean_sls_renders_and_resolves(site):
    from .conftest import CLEAN_SLS, render_node

    # ms1 holds the most formulas' state (agent, NFS server); clean.sls undoes a formula anywhere.
    cleans = render_node("ms1", site=site, cleans=True).cleans
    assert sorted(cleans) == CLEAN_SLS and len(CLEAN_SLS) >= 14
    for sls, result in cleans.items():
        assert isinstance(result, dict) and result, f"{sls} did not compile: {result}"
        failed = {chunk["__id__"]: chunk["comment"] for chunk in result.values() if chunk["result"] is False}
        assert failed == {}, sls


def test_the_lab_runs_the_production_mesos_and_marathon_states_with_its_own_repository(rendered, rendered_lab):
    """Same states on mm1 for both sites; only pillar data differs (repository, pinned versions)."""

    def mesos_and_marathon(node):
        return {i for i, chunk in node.highstate.items() if chunk["__sls__"].split(".")[0] in ("mesos", "marathon")}

    assert mesos_and_marathon(rendered["mm1"]) == mesos_and_marathon(rendered_lab["mm1"])
    lab_site = yaml.safe_load((REPO / "lab" / "pillar" / "site.sls").read_text())
    production_site = with_site(load_repo_pillar(), PRODUCTION_SITE_PILLAR)
    for node, site in ((rendered["mm1"], production_site), (rendered_lab["mm1"], lab_site)):
        assert node.state("mesos-repo-managed")["name"] == site["mesos"]["repo"]
        assert node.state("mesos-package-installed")["name"] == "aventer-mesos"
        assert node.state("mesos-package-installed")["version"] == site["mesos"]["version"]
        assert node.state("marathon-package-installed")["version"] == site["marathon"]["version"]
    assert "http://192.168.33.1:8089" in rendered_lab["mm1"].state("mesos-repo-managed")["name"]


def test_a_site_without_a_mesos_repository_is_refused_before_anything_is_installed():
    from .conftest import render_node

    mm1 = render_node("mm1", site_pillar="{}\n")
    refusal = mm1.state("mesos-repo-managed")
    assert refusal["fun"] == "test.fail_without_changes"
    assert "pillar mesos:repo is empty" in refusal["name"]
    assert refusal["failhard"] is True


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_hosts_resolve_every_node_and_the_app_names_to_the_vip(rendered, node_id):
    node = rendered[node_id]
    assert node.state("common-host-ms3-present")["name"] == "192.168.33.16"
    vip = node.state("common-host-vip-present")
    assert vip["name"] == PLATFORM["vip"]
    assert {"app-test", "app-production"} <= set(vip["hostnames"])


def test_zookeeper_myid_follows_pillar(rendered):
    for node_id, myid in (("mm1", "1"), ("mm2", "2"), ("mm3", "3")):
        assert rendered[node_id].file_content("zookeeper-myid-file-managed") == myid


def test_zookeeper_ensemble_lists_the_three_masters(rendered):
    config = rendered["mm2"].file_content("zookeeper-config-file-managed")
    assert re.findall(r"^server\.(\d)=([\d.]+):2888:3888$", config, re.M) == [
        ("1", "192.168.33.11"),
        ("2", "192.168.33.12"),
        ("3", "192.168.33.13"),
    ]


AGENT_ENVS = [("ms1", "test"), ("ms2", "test"), ("ms3", "production"), ("ms4", "production")]


@pytest.mark.parametrize(("node_id", "env"), AGENT_ENVS)
def test_agent_carries_its_environment_attribute(rendered, node_id, env):
    assert rendered[node_id].file_content("mesos-agent-flag-attributes-file-managed") == f"env:{env}"
    assert rendered[node_id].file_content("mesos-agent-flag-containerizers-file-managed") == "docker,mesos"


def test_masters_share_zookeeper_and_a_majority_quorum(rendered):
    zk = "zk://192.168.33.11:2181,192.168.33.12:2181,192.168.33.13:2181/mesos"
    assert rendered["mm1"].file_content("mesos-zk-file-managed") == zk
    assert rendered["ms4"].file_content("mesos-zk-file-managed") == zk
    assert rendered["mm1"].file_content("mesos-master-flag-quorum-file-managed") == "2"


def test_marathon_points_at_mesos_and_its_own_zookeeper_node(rendered):
    defaults = rendered["mm3"].file_content("marathon-env-file-managed")
    assert "MARATHON_MASTER=zk://192.168.33.11:2181,192.168.33.12:2181,192.168.33.13:2181/mesos" in defaults
    zk_password = SITE_SECRETS["zookeeper_marathon_password"]["value"]
    hosts = "192.168.33.11:2181,192.168.33.12:2181,192.168.33.13:2181"
    assert f"MARATHON_ZK=zk://marathon:{zk_password}@{hosts}/marathon\n" in defaults


def _secret(name: str) -> str:
    return SITE_SECRETS[name]["value"]


def test_marathon_authenticates_to_mesos_and_asks_http_basic(rendered):
    node = rendered["mm2"]
    env = dict(line.split("=", 1) for line in node.file_content("marathon-env-file-managed").splitlines()[1:])
    # Marathon's own default for --http_credentials: no MARATHON_* flag, so on no command line.
    assert env["MESOSPHERE_HTTP_CREDENTIALS"] == f"platform:{_secret('marathon_http_password')}"
    assert "MARATHON_HTTP_CREDENTIALS" not in env
    # A boolean is a bare flag: Marathon reads MARATHON_X= as --x.
    assert env["MARATHON_MESOS_AUTHENTICATION"] == ""
    assert env["MARATHON_MESOS_AUTHENTICATION_PRINCIPAL"] == "marathon"
    assert env["MARATHON_MESOS_AUTHENTICATION_SECRET_FILE"] == "/etc/marathon/mesos-secret"
    secret_file = node.state("marathon-mesos-secret-file-managed")
    assert secret_file["contents"] == _secret("mesos_marathon_secret")
    assert secret_file["contents_newline"] is False  # Marathon reads the file raw
    assert (secret_file["mode"], secret_file["group"], secret_file["show_changes"]) == ("0640", "marathon", False)
    assert node.state("marathon-env-file-managed")["mode"] == "0600"


def test_mesos_masters_list_every_principal_and_agents_hold_only_their_own(rendered):
    master = rendered["mm1"]
    credentials = json.loads(master.file_content("mesos-master-credentials-file-managed"))["credentials"]
    assert {c["principal"]: c["secret"] for c in credentials} == {
        "agent": _secret("mesos_agent_secret"),
        "marathon": _secret("mesos_marathon_secret"),
        "operator": _secret("mesos_operator_secret"),
    }
    flags = {
        flag: master.file_content(f"mesos-master-flag-{flag}-file-managed")
        for flag in ("authenticate_frameworks", "authenticate_agents", "authenticate_http_readonly",
                     "authenticate_http_readwrite", "credentials", "zk")
    }  # fmt: skip
    assert flags == {
        "authenticate_frameworks": "true",
        "authenticate_agents": "true",
        "authenticate_http_readonly": "true",
        "authenticate_http_readwrite": "true",
        "credentials": "/etc/mesos/secrets/credentials.json",
        "zk": "file:///etc/mesos/secrets/zk",
    }
    hosts = "192.168.33.11:2181,192.168.33.12:2181,192.168.33.13:2181"
    zk_url = master.state("mesos-master-zk-url-file-managed")
    assert zk_url["contents"] == f"zk://mesos:{_secret('zookeeper_mesos_password')}@{hosts}/mesos"
    assert (zk_url["mode"], zk_url["show_changes"]) == ("0600", False)
    assert master.state("mesos-secrets-dir-managed")["mode"] == "0700"

    agent = rendered["ms3"]
    own = {"principal": "agent", "secret": _secret("mesos_agent_secret")}
    assert json.loads(agent.file_content("mesos-agent-credential-file-managed")) == own
    assert json.loads(agent.file_content("mesos-agent-http-credentials-file-managed")) == {"credentials": [own]}
    for flag, value in (("credential", "/etc/mesos/secrets/credential.json"),
                        ("http_credentials", "/etc/mesos/secrets/http_credentials.json"),
                        ("authenticate_http_readonly", "true"), ("authenticate_http_readwrite", "true")):  # fmt: skip
        assert agent.file_content(f"mesos-agent-flag-{flag}-file-managed") == value


def test_consul_servers_bootstrap_three_and_agents_join_them(rendered):
    server = json.loads(rendered["mm1"].file_content("consul-config-file-managed"))
    agent = json.loads(rendered["lb2"].file_content("consul-config-file-managed"))
    assert (server["server"], server["bootstrap_expect"]) == (True, 3)
    assert agent["server"] is False and "bootstrap_expect" not in agent
    assert agent["retry_join"] == ["192.168.33.11", "192.168.33.12", "192.168.33.13"]
    assert agent["bind_addr"] == "192.168.33.18"
    # The gossip key in a file of its own, which the service does not watch: a running agent
    # takes a new key from its keyring, which the first server alone rotates.
    gossip_key = SITE_SECRETS["consul_gossip_key"]["value"]
    for node_id in ("mm1", "lb2"):
        assert "encrypt" not in json.loads(rendered[node_id].file_content("consul-config-file-managed"))
        assert json.loads(rendered[node_id].file_content("consul-gossip-key-file-managed")) == {"encrypt": gossip_key}
        assert rendered[node_id].state("consul-gossip-key-file-managed")["show_changes"] is False
    watched = rendered["lb2"].state("consul-service-running")["watch"]
    assert {"file": "consul-gossip-key-file-managed"} not in watched
    keyring = rendered["mm1"].state("consul-gossip-keyring-single-key")
    assert (keyring["key"], keyring["token"]) == (gossip_key, SITE_SECRETS["consul_master_token"]["value"])
    assert "consul-gossip-keyring-single-key" not in rendered["mm2"].highstate


def test_lb1_has_the_higher_vrrp_priority_and_both_hold_the_same_vip(rendered):
    configs = {node_id: rendered[node_id].file_content("keepalived-config-file-managed") for node_id in ("lb1", "lb2")}
    priorities = {node_id: int(re.search(r"^\s*priority (\d+)$", c, re.M).group(1)) for node_id, c in configs.items()}
    assert priorities["lb1"] > priorities["lb2"]
    for config in configs.values():
        assert "192.168.33.20/24 dev eth0" in config
    assert re.search(r"unicast_peer \{\s*192\.168\.33\.18\s*\}", configs["lb1"])
    for config in configs.values():
        assert f"auth_pass {SITE_SECRETS['vrrp_password']['value']}" in config


def test_secret_bearing_files_show_no_diff(rendered):
    assert rendered["lb1"].state("keepalived-config-file-managed")["show_changes"] is False
    assert rendered["mm1"].state("consul-config-file-managed")["show_changes"] is False


def test_a_node_renders_only_the_secrets_its_roles_use(rendered):
    ms3 = rendered["ms3"].pillar
    assert ms3["consul"]["encrypt"] == SITE_SECRETS["consul_gossip_key"]["value"]
    assert "auth_pass" not in ms3["keepalived"]
    # Its own environment's app secret, as a file for its instances; not test's.
    assert ms3["app"]["environments"]["production"]["secret_key"] == SITE_SECRETS["app_secret_key/production"]["value"]
    assert "secret_key" not in ms3["app"]["environments"]["test"]
    assert rendered["ms3"].state("app-secret-file-managed")["contents_pillar"] == (
        "app:environments:production:secret_key"
    )
    assert rendered["ms3"].state("app-secret-file-managed")["show_changes"] is False


def test_a_secret_left_in_a_site_pillar_stops_the_render():
    with pytest.raises(Exception, match="keepalived:auth_pass set in SLS pillar"):
        render_node("lb1", site_pillar=PRODUCTION_SITE_PILLAR + "keepalived:\n  auth_pass: vrrp-lab\n")


def test_nginx_template_routes_each_app_host_only_to_its_environment(rendered):
    template = rendered["lb1"].file_content("lb-nginx-template-file-managed")
    servers = re.findall(r"server_name (app-\S+) [^;]*;(.*?)\n\}", template, re.S)
    routes = {name: body for name, body in servers}
    assert set(routes) == {"app-test", "app-production"}
    # An environment's passing entries count only on the nodes the topology gives that
    # environment, by name (a node's Consul token registers only its own name), whatever tag a
    # container chose or metadata a node set; the upstream and the server use those.
    agents = {"test": '"ms1" "ms2"', "production": '"ms3" "ms4"'}
    for env in ("test", "production"):
        gathered = f'range service "{env}.app|passing" ]][[ if eq .Node {agents[env]} ]]'
        assert gathered in template
        assert "NodeMeta" not in template
        assert f'scratch.Key "app-{env}"' in routes[f"app-{env}"]
        upstream = re.search(rf"upstream app-{env} \{{(.*?)\}}", template, re.S).group(1)
        assert f'scratch.MapValues "app-{env}"' in upstream
    assert "test" not in routes["app-production"]
    assert "production" not in routes["app-test"]
    assert 'return 503 "no backend for app-production' in routes["app-production"]
    # A vanished instance costs a request one second, not nginx's default 60, before the next one.
    for env in ("test", "production"):
        assert "proxy_connect_timeout 1s;" in routes[f"app-{env}"]
        assert "proxy_next_upstream error timeout http_502 http_503;" in routes[f"app-{env}"]


def test_consul_answers_on_loopback_and_the_node_address_never_the_vip(rendered):
    for node_id in ("lb1", "mm2"):
        config = json.loads(rendered[node_id].file_content("consul-config-file-managed"))
        assert config["client_addr"] == f"127.0.0.1 {PLATFORM['nodes'][node_id]['ip']}"  # DNS
        # Plain HTTP on loopback only; the node's address speaks HTTPS.
        assert config["addresses"] == {"http": "127.0.0.1", "https": PLATFORM["nodes"][node_id]["ip"]}
        assert config["ports"] == {"http": 8500, "https": 8501}


def test_consul_speaks_tls_with_certificates_from_the_cluster_ca(rendered):
    for node_id in ("mm2", "ms3"):
        config = json.loads(rendered[node_id].file_content("consul-config-file-managed"))
        assert config["ca_file"] == "/usr/local/share/ca-certificates/platform-ca.crt"
        assert (config["cert_file"], config["key_file"]) == ("/etc/consul-tls/agent.crt", "/etc/consul-tls/agent.key")
        assert config["verify_incoming_rpc"] and config["verify_outgoing"] and config["verify_server_hostname"]
        certificate = rendered[node_id].state("consul-tls-certificate-managed")
        assert (certificate["ca_server"], certificate["signing_policy"]) == ("registry", f"consul-{node_id}")
    policies = rendered["registry"].state("ca-signing-policies-present")["value"]
    assert "DNS:server.dc1.consul" in policies["consul-mm2"]["subjectAltName"]
    assert "server.dc1.consul" not in policies["consul-ms3"]["subjectAltName"]
    assert policies["consul-ms3"]["minions"] == "ms3"
    assert policies["consul-ms3"]["subjectAltName"] == (
        "DNS:ms3.localdomain, DNS:localhost, IP:192.168.33.16, IP:127.0.0.1"
    )
    assert policies["consul-ms3"]["extendedKeyUsage"] == "serverAuth, clientAuth"


def test_consul_node_metadata_names_the_environment_salt_gave_the_node(rendered):
    assert json.loads(rendered["ms3"].file_content("consul-config-file-managed"))["node_meta"] == {"env": "production"}
    assert json.loads(rendered["ms2"].file_content("consul-config-file-managed"))["node_meta"] == {"env": "test"}
    assert json.loads(rendered["mm1"].file_content("consul-config-file-managed"))["node_meta"] == {}


def test_each_environment_s_data_is_exported_to_its_own_agents_and_mounted_by_them_only(rendered):
    exports = rendered["ms1"].file_content("nfs-exports-file-managed")
    options = "(rw,sync,no_subtree_check,root_squash)"
    assert [line for line in exports.splitlines() if not line.startswith("#")] == [
        f"/data/production 192.168.33.16{options} 192.168.33.21{options}",
        f"/data/test 192.168.33.15{options}",
    ]
    for env in ("test", "production"):
        data_dir = rendered["ms1"].state(f"nfs-{env}-data-dir-managed")
        assert (data_dir["name"], data_dir["user"], data_dir["mode"]) == (f"/data/{env}", 1000, "0750")
    mount = rendered["ms3"].state("nfs-export-mounted")
    assert (mount["name"], mount["device"], mount["fstype"]) == (
        "/data/production",
        "192.168.33.14:/data/production",
        "nfs",
    )
    assert mount["opts"] == ["rw", "hard", "_netdev"]
    assert rendered["ms2"].state("nfs-export-mounted")["device"] == "192.168.33.14:/data/test"
    # The whole share an earlier version mounted goes, but only where it is that share.
    legacy = rendered["ms3"].state("nfs-whole-share-unmounted")
    assert (legacy["name"], legacy["device"], legacy["persist"]) == ("/data", "192.168.33.14:/data", True)
    assert legacy["onlyif"].startswith("findmnt -n -M /data -S 192.168.33.14:/data || ")


def test_the_lab_runs_the_production_nfs_states_with_its_own_package_and_mount_source(rendered, rendered_lab):
    """Same NFS states on the server and a client for both sites; only pillar data differs."""

    def nfs_states(node):
        return {i: node.state(i)["fun"] for i, chunk in node.highstate.items() if chunk["__sls__"].startswith("nfs.")}

    for node_id in ("ms1", "ms3"):
        assert nfs_states(rendered[node_id]) == nfs_states(rendered_lab[node_id])
    lab_site = yaml.safe_load((REPO / "lab" / "pillar" / "site.sls").read_text())
    server = rendered_lab["ms1"].state("nfs-server-package-installed")
    assert (server["name"], server["version"]) == ("nfs-kernel-server", lab_site["nfs"]["server_version"])
    assert rendered["ms1"].state("nfs-server-package-installed")["version"] == PILLAR["nfs"]["version"]
    assert rendered_lab["ms1"].file_content("nfs-exports-file-managed") == rendered["ms1"].file_content(
        "nfs-exports-file-managed"
    )
    mount = rendered_lab["ms3"].state("nfs-export-mounted")
    assert (mount["name"], mount["device"], mount["fstype"]) == (
        "/data/production",
        "/lab/nfs-export/production",
        "none",
    )
    assert mount["opts"] == ["bind"]
    assert rendered_lab["ms3"].state("nfs-client-package-installed")["version"] == PILLAR["nfs"]["version"]


def test_registrator_announces_the_node_address_to_the_local_consul(rendered):
    container = rendered["ms2"].state("registrator-container-running")
    assert container["image"] == f"registry.localdomain:5001/platform/registrator:{PILLAR['registrator']['version']}"
    assert container["command"].startswith("-ip 192.168.33.15 ")
    assert container["command"].endswith(" consul://127.0.0.1:8500")


def test_docker_trusts_no_insecure_registry(rendered):
    daemon = rendered["ms1"].state("docker-config-file-managed")["dataset"]
    assert "insecure-registries" not in daemon


def test_consul_template_reads_the_local_consul_agent_on_its_http_port(rendered):
    config = rendered["lb1"].file_content("lb-consul-template-config-file-managed")
    assert 'address = "127.0.0.1:8500"' in config


def test_every_node_schedules_its_own_drift_check(rendered):
    for node_id in NODE_IDS:
        schedule = rendered[node_id].state("drift-check-scheduled")
        assert schedule["function"] == "state.apply"
        assert schedule["job_kwargs"] == {"test": True, "queue": True}
        assert schedule["return_job"] is True


def test_no_flag_file_repeats_what_the_init_wrapper_passes(rendered):
    """mesos-init-wrapper passes the master --zk, --port and --log_dir, the agent --master and
    --log_dir, from /etc/default/mesos* when they exist: a flag file of the same name makes
    Mesos exit ("Flag 'port' is already loaded") and restart forever. The fork ships no
    /etc/default files and the formula keeps them absent, so zk and master come from flag files,
    the master's at its URL with its ZooKeeper digest, the agent's at the one zk file; port and
    log_dir are never flag files."""
    wanted = {
        "master": ("zk", "file:///etc/mesos/secrets/zk", {"port", "log_dir"}),
        "agent": ("master", "file:///etc/mesos/zk", {"log_dir"}),
    }
    for node_id, daemon in (("mm1", "master"), ("ms2", "agent")):
        highstate = rendered[node_id].highstate
        flag_files = {
            rendered[node_id].state(state_id)["name"].rsplit("/", 1)[-1]: rendered[node_id].state(state_id)["contents"]
            for state_id in highstate
            if state_id.startswith(f"mesos-{daemon}-flag-") and state_id.endswith("-file-managed")
        }
        finder, url_file, never = wanted[daemon]
        assert flag_files[finder] == url_file
        assert not set(flag_files) & never, (node_id, sorted(flag_files))
        defaults = {
            rendered[node_id].state(i)["name"]: rendered[node_id].state(i)["fun"]
            for i in highstate
            if str(rendered[node_id].state(i).get("name", "")).startswith("/etc/default/mesos")
        }
        # Kept absent: one left by hand (or by the classic package) is drift, and fix removes it.
        assert defaults == dict.fromkeys(
            ["/etc/default/mesos", "/etc/default/mesos-master", "/etc/default/mesos-agent"], "file.absent"
        )


@pytest.mark.parametrize("node_id", ["ms1", "ms4"])
def test_agents_run_without_systemd_support_on_cgroup_v2(rendered, node_id):
    state = rendered[node_id].state("mesos-agent-flag-systemd_enable_support-file-managed")
    assert state["name"] == "/etc/mesos-agent/systemd_enable_support"
    assert state["contents"] == "false"


def test_marathon_runs_tasks_as_the_agents_task_user_and_binds_libprocess_to_the_node_ip(rendered):
    defaults = rendered["mm3"].file_content("marathon-env-file-managed").splitlines()
    task_user = rendered["ms2"].state("mesos-task-user-present")["name"]
    assert task_user == "platform-task"
    assert f"MARATHON_MESOS_USER={task_user}" in defaults
    assert "LIBPROCESS_IP=192.168.33.13" in defaults


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_the_task_user_is_a_system_user_of_the_mesos_agents_only(rendered, node_id):
    node = rendered[node_id]
    on_agent = "mesos-agent" in PLATFORM["nodes"][node_id]["roles"]
    task_user_states = {"mesos-task-user-present", "mesos-task-group-present"}
    assert task_user_states & set(node.highstate) == (task_user_states if on_agent else set())
    if on_agent:
        user = node.state("mesos-task-user-present")
        assert {k: user.get(k) for k in ("name", "gid", "system", "shell", "createhome", "uid")} == {
            "name": "platform-task",
            "gid": "platform-task",
            "system": True,
            "shell": "/usr/sbin/nologin",
            "createhome": False,
            "uid": None,  # no fixed uid: 1000 is often a person's
        }
        assert node.state("mesos-task-group-present")["system"] is True


def test_the_mesos_masters_acls_let_the_framework_run_tasks_as_the_task_user_and_the_operator_tear_down(rendered):
    master = rendered["mm1"]
    assert master.file_content("mesos-master-flag-acls-file-managed") == "file:///etc/mesos/acls.json"
    acls_file = master.state("mesos-master-acls-file-managed")
    assert (acls_file["name"], acls_file["mode"]) == ("/etc/mesos/acls.json", "0644")
    # Mesos' ACLs message (include/mesos/authorizer/acls.proto): the first matching rule decides.
    assert json.loads(master.file_content("mesos-master-acls-file-managed")) == {
        "permissive": True,
        "register_frameworks": [
            {"principals": {"values": ["marathon"]}, "roles": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}},
        ],
        "run_tasks": [
            {"principals": {"values": ["marathon"]}, "users": {"values": ["platform-task"]}},
            {"principals": {"type": "ANY"}, "users": {"type": "NONE"}},
        ],
        "teardown_frameworks": [
            {"principals": {"values": ["operator"]}, "framework_principals": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}},
        ],
    }
    assert {"file": "mesos-master-acls-file-managed"} in master.state("mesos-master-service-running")["watch"]
    assert "mesos-master-acls-file-managed" not in rendered["ms1"].highstate


def test_one_pillar_key_names_the_task_user_everywhere_and_marathon_may_still_override_its_flag():
    site = PRODUCTION_SITE_PILLAR + "  task_user: apps\n"
    master = render_node("mm1", site_pillar=site, cleans=True)
    assert "MARATHON_MESOS_USER=apps" in master.file_content("marathon-env-file-managed").splitlines()
    run_tasks = json.loads(master.file_content("mesos-master-acls-file-managed"))["run_tasks"]
    assert run_tasks[0]["users"] == {"values": ["apps"]}
    assert "file_|-mesos-config-removed_|-/etc/mesos/acls.json_|-absent" in master.cleans["mesos.clean"]
    assert render_node("ms4", site_pillar=site).state("mesos-task-user-present")["name"] == "apps"
    overridden = render_node("mm3", site_pillar=PRODUCTION_SITE_PILLAR + "marathon:\n  flags:\n    mesos_user: batch\n")
    assert "MARATHON_MESOS_USER=batch" in overridden.file_content("marathon-env-file-managed").splitlines()


def test_nfs_clients_start_their_agent_only_with_the_shared_storage_mounted(rendered):
    drop_in = rendered["ms3"].state("mesos-agent-unit-requires-shared-storage-managed")
    assert drop_in["name"] == "/etc/systemd/system/mesos-agent.service.d/platform-storage.conf"
    assert "RequiresMountsFor=/data/production" in drop_in["contents"]
    assert "mesos-agent-unit-requires-shared-storage-managed" not in rendered["ms1"].highstate


@pytest.mark.parametrize(
    ("node_id", "state_id", "directory"),
    [
        ("ms2", "consul-config-dir-cleaned", "/etc/consul.d"),
        ("mm1", "consul-config-dir-cleaned", "/etc/consul.d"),
        ("lb1", "keepalived-config-dir-cleaned", "/etc/keepalived"),
        ("lb2", "lb-config-dir-cleaned", "/etc/platform-lb"),
        ("mm2", "mesos-master-flag-dir-cleaned", "/etc/mesos-master"),
        ("ms3", "mesos-agent-flag-dir-cleaned", "/etc/mesos-agent"),
    ],
)
def test_directories_a_daemon_reads_wholesale_are_managed_wholesale(rendered, node_id, state_id, directory):
    """A file dropped there would change the daemon: clean means drift reports it and fix removes it."""
    state = rendered[node_id].state(state_id)
    assert state["name"] == directory
    assert state["clean"] is True


def test_registrator_finds_the_docker_socket_where_v7_looks_for_it(rendered):
    """registrator v7's DOCKER_HOST defaults to unix:///tmp/docker.sock inside its container."""
    binds = rendered["ms2"].state("registrator-container-running")["binds"]
    assert binds == ["/var/run/docker.sock:/tmp/docker.sock"]


def test_the_registry_asks_every_client_for_a_user_and_holds_only_hashes(rendered):
    registry = rendered["registry"]
    listeners = {
        "push": ("/etc/docker/registry/config.yml", "/etc/docker/registry/htpasswd", "builder", 5000),
        "pull": ("/etc/docker/registry/config-readonly.yml", "/etc/docker/registry/htpasswd-readonly", "pull", 5001),
    }
    for name, (config_file, htpasswd_file, user, port) in listeners.items():
        assert registry.state(f"registry-{name}-config-file-managed")["name"] == config_file
        config = yaml.safe_load(registry.file_content(f"registry-{name}-config-file-managed"))
        assert config["auth"] == {"htpasswd": {"realm": "platform-registry", "path": htpasswd_file}}
        assert config["http"]["addr"] == f":{port}"
        # Only the pull listener is read-only; both serve one storage.
        assert config["storage"].get("maintenance") == ({"readonly": {"enabled": True}} if name == "pull" else None)
        assert config["storage"]["filesystem"] == {"rootdirectory": "/var/lib/docker-registry"}
        htpasswd = registry.state(f"registry-{name}-htpasswd-file-managed")
        lines = dict(line.split(":", 1) for line in htpasswd["contents"].split())
        assert lines == {user: SITE_SECRETS[f"registry_{user}_password"]["hash"]}
        assert (htpasswd["mode"], htpasswd["group"], htpasswd["show_changes"]) == ("0640", "docker-registry", False)
    unit = registry.file_content("registry-pull-unit-file-managed")
    assert "ExecStart=/usr/bin/docker-registry serve /etc/docker/registry/config-readonly.yml" in unit
    assert "User=docker-registry" in unit


@pytest.mark.parametrize(
    ("node_id", "user"), [("registry", "builder"), ("ms2", "pull"), ("lb2", "pull"), ("mm3", "pull")]
)
def test_each_docker_client_logs_in_as_its_own_registry_user(rendered, node_id, user):
    login = rendered[node_id].state("docker-registry-login-file-managed")
    secret = SITE_SECRETS[f"registry_{user}_password"]["value"]
    # The builder pushes to the push listener; every other node knows only the read-only one.
    ((address, entry),) = login["dataset"]["auths"].items()
    assert address == ("registry.localdomain:5000" if user == "builder" else "registry.localdomain:5001")
    auth = entry["auth"]
    assert base64.b64decode(auth).decode() == f"{user}:{secret}"
    assert (login["name"], login["mode"], login["show_changes"]) == ("/root/.docker/config.json", "0600", False)


def test_the_images_ask_the_registry_for_a_tag_as_a_module_call_not_a_command(rendered):
    pushes = [chunk for chunk in rendered["registry"].highstate if chunk.startswith("images-")]
    assert pushes == []  # images are applied by cluster.up on the builder, not in its highstate
    text = (REPO / "salt" / "images" / "map.jinja").read_text()
    assert "registry.has_tag" in text and "curl" not in text


def test_consul_denies_by_default_and_the_first_server_makes_every_token(rendered):
    server = json.loads(rendered["mm1"].file_content("consul-config-file-managed"))["acl"]
    agent = json.loads(rendered["lb1"].file_content("consul-config-file-managed"))["acl"]
    assert server == {
        "enabled": True,
        "default_policy": "deny",
        "down_policy": "extend-cache",
        "tokens": {"agent": _secret("consul_agent_token/mm1"), "master": _secret("consul_master_token")},
    }
    # Each node its own agent token; no master token off the servers.
    assert agent["tokens"] == {"agent": _secret("consul_agent_token/lb1")}
    assert _secret("consul_agent_token/lb1") != _secret("consul_agent_token/lb2")
    bootstrap = rendered["mm1"].state("consul-acl-bootstrapped")
    node_tokens = {
        f"agent token of {node_id}": {
            "secret": _secret(f"consul_agent_token/{node_id}"),
            "node": node_id,
            "policies": [],
        }
        for node_id in PLATFORM["nodes"]
    }
    assert bootstrap["tokens"] == {
        "registrator_token": {"secret": _secret("consul_registrator_token"), "policies": ["platform-registrator"]},
        "template_token": {"secret": _secret("consul_template_token"), "policies": ["platform-template"]},
        "reader_token": {"secret": _secret("consul_reader_token"), "policies": ["platform-reader"]},
        **node_tokens,
    }
    assert "platform-agent" not in bootstrap["policies"]  # no token writes every node
    assert bootstrap["retired_tokens"] == ["agent_token"]
    assert bootstrap["anonymous_policies"] == []  # nothing is anonymous
    assert "consul-acl-bootstrapped" not in rendered["mm2"].highstate
    template = rendered["lb2"].file_content("lb-consul-template-config-file-managed")
    assert f'token = "{_secret("consul_template_token")}"' in template
    registrator = rendered["ms1"].state("registrator-container-running")
    assert registrator["environment"] == [{"CONSUL_HTTP_TOKEN": _secret("consul_registrator_token")}]


def test_the_app_is_served_over_https_only_with_the_usual_headers_and_a_sign_in_limit(rendered):
    template = rendered["lb1"].file_content("lb-nginx-template-file-managed")
    for env in ("test", "production"):
        plain, tls = re.findall(
            rf"server \{{\n  listen (\d+)( ssl)?;\n  server_name app-{env} app-{env}\.localdomain;", template
        )
        assert plain == ("80", "") and tls == ("443", " ssl")
    redirects = re.findall(
        r"listen 80;\n  server_name (app-\S+) .*?\n  location / \{\n    return 301 https://\$host\$request_uri;",
        template,
    )
    assert redirects == ["app-test", "app-production"]
    for header in (
        'Strict-Transport-Security "max-age=31536000"',
        "X-Content-Type-Options nosniff",
        "X-Frame-Options DENY",
    ):
        assert template.count(f"add_header {header} always;") == 2
    assert "ssl_certificate     /etc/platform-lb/app-tls.crt;" in template
    assert "limit_req_zone $lb_signin_client zone=lb_signin:1m rate=10r/m;" in template
    assert template.count("location = /signin {\n    limit_req zone=lb_signin burst=5 nodelay;") == 2


def test_each_lb_asks_the_ca_node_for_its_certificate_under_its_own_policy(rendered):
    policies = rendered["registry"].state("ca-signing-policies-present")["value"]
    assert sorted(name for name in policies if name.startswith("app-tls-")) == ["app-tls-lb1", "app-tls-lb2"]
    for node_id in ("lb1", "lb2"):
        policy = policies[f"app-tls-{node_id}"]
        assert policy["minions"] == node_id
        assert policy["signing_private_key"] == "/etc/pki/platform-ca/ca.key"
        assert policy["subjectAltName"] == (
            "DNS:app-test, DNS:app-test.localdomain, DNS:app-production, DNS:app-production.localdomain"
        )
        certificate = rendered[node_id].state("lb-tls-certificate-managed")
        assert certificate["ca_server"] == "registry"
        assert certificate["signing_policy"] == f"app-tls-{node_id}"
        assert "signing_private_key" not in certificate
    assert not any("ca.key" in str(chunk) for chunk in rendered["lb1"].highstate.values())


def test_each_node_firewall_opens_its_roles_ports_and_loads_as_nftables_reads_it(rendered, tmp_path):
    lb1 = rendered["lb1"].file_content("firewall-config-file-managed")
    mm1 = rendered["mm1"].file_content("firewall-config-file-managed")
    for config in (lb1, mm1):
        assert "type filter hook input priority filter; policy drop;" in config
        assert "flush ruleset" not in config  # Docker's own tables stay
    assert 'tcp dport { 80, 443 } accept comment "app"' in lb1
    assert "ip saddr { 192.168.33.17, 192.168.33.18 } ip protocol 112 accept" in lb1
    assert "2181" not in lb1 and "5050" not in lb1
    assert "ip saddr { 192.168.33.11, 192.168.33.12, 192.168.33.13 } tcp dport { 2888, 3888 } accept" in mm1
    assert "ip saddr { 192.168.33.0/24 } tcp dport { 8080 } accept" in mm1
    assert "LIBPROCESS_PORT=15050" in rendered["mm1"].file_content("marathon-env-file-managed")
    # An agent: the tasks' published ports are forwarded to the load balancers and Marathons only.
    ms2 = rendered["ms2"].file_content("firewall-config-file-managed")
    assert "type filter hook forward priority filter - 1; policy accept;" in ms2
    assert (
        "ip saddr { 192.168.33.11, 192.168.33.12, 192.168.33.13, 192.168.33.17, 192.168.33.18 } "
        'ct status dnat meta l4proto tcp ct original proto-dst { 31000-32000 } accept comment "app-tasks"'
    ) in ms2
    assert "ct status dnat meta l4proto tcp ct original proto-dst { 31000-32000 } drop" in ms2
    assert "chain forward" not in lb1 + mm1
    assert rendered["ms2"].file_content("mesos-agent-flag-resources-file-managed").strip() == "ports:[31000-32000]"
    # nft itself parses it (--check: nothing is loaded).
    for node_id, config in (("lb1", lb1), ("mm1", mm1), ("ms2", ms2)):
        path = tmp_path / f"{node_id}.nft"
        path.write_text(config)
        checked = subprocess.run(["nft", "--check", "--file", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    # The unit's stop removes only this table.
    dropin = rendered["ms2"].file_content("firewall-unit-dropin-managed")
    assert "ExecStop=\nExecStop=-/usr/sbin/nft delete table inet platform_firewall" in dropin


def _zookeeper_digest(user: str, password: str) -> str:
    # ZooKeeper's DigestAuthenticationProvider.generateDigest, the id an ACL names.
    return f"{user}:{base64.b64encode(hashlib.sha1(f'{user}:{password}'.encode()).digest()).decode()}"


def test_the_first_zookeeper_makes_its_clients_znodes_and_closes_the_root_to_all_but_its_admin(rendered):
    mesos = _zookeeper_digest("mesos", _secret("zookeeper_mesos_password"))
    marathon = _zookeeper_digest("marathon", _secret("zookeeper_marathon_password"))
    admin = _zookeeper_digest("platform-admin", _secret("zookeeper_admin_password"))
    first = rendered["mm1"]
    # Each client's znode with the ACL its owner would give it, its open legacy znodes closed.
    assert first.state("zookeeper-znode-/mesos-owned")["acl"] == ["world:anyone:r", f"digest:{mesos}:cdrwa"]
    assert first.state("zookeeper-znode-/marathon-owned")["acl"] == [f"digest:{marathon}:cdrwa"]
    assert first.state("zookeeper-znode-/marathon-owned")["reclaim"] is True
    root = first.state("zookeeper-root-closed")
    assert root["acl"] == ["world:anyone:r", f"digest:{admin}:cdrwa"]
    assert (root["user"], root["password"]) == ("platform-admin", _secret("zookeeper_admin_password"))
    assert root["hosts"] == ",".join(f"{PLATFORM['nodes'][n]['ip']}:2181" for n in ("mm1", "mm2", "mm3"))
    for owned in ("zookeeper-znode-/mesos-owned", "zookeeper-znode-/marathon-owned"):  # before the root closes
        assert first.state(owned)["require_in"] == [{"zookeeper_acl": "zookeeper-root-closed"}]
    assert "zookeeper-root-closed" not in rendered["mm2"].highstate
    # The servers hold their clients' digests, which name them, not their passwords.
    assert first.pillar["marathon"]["zk_digest"] == marathon
    assert "admin_password" not in rendered["ms1"].pillar.get("zookeeper", {})
