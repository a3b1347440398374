"""The site's secrets on the lab: generated per site, kept on the master, each node given only its own."""

from __future__ import annotations

import pathlib
import stat
import subprocess

import requests
import yaml

from .conftest import PLATFORM, REPO, cluster_ca_file, node_exec, salt, salt_run, site_secret, wait_for

STORE = REPO / ".salt" / "secrets.yaml"


def store() -> dict:
    return yaml.safe_load(STORE.read_text())["secrets"]


def test_the_store_is_private_and_outside_git():
    assert stat.S_IMODE(STORE.stat().st_mode) == 0o600
    ignored = subprocess.run(["git", "check-ignore", "-q", str(STORE)], cwd=REPO)
    assert ignored.returncode == 0, "the secrets store must be ignored by git"
    tracked = subprocess.run(
        ["git", "grep", "-l", "-F", store()["vrrp_password"]["value"]], cwd=REPO, capture_output=True
    )
    assert tracked.stdout == b"", "a site secret is in a committed file"


def test_a_node_receives_only_the_secrets_its_roles_use():
    items = (
        "app:environments:test:secret_key",
        "keepalived:auth_pass",
        "consul:encrypt",
        "app:environments:production:secret_key",
    )
    ms3 = salt("ms3", "pillar.item", *items)["ms3"]
    lb1 = salt("lb1", "pillar.item", *items)["lb1"]
    # Salt 3008 masks the strings it returns (**********); what matters is present or absent.
    # An agent holds its own environment's app secret (a file for its instances), not another's.
    assert (ms3[items[0]], ms3[items[1]]) == ("", "") and ms3[items[2]] and ms3[items[3]]
    assert (lb1[items[0]], lb1[items[3]]) == ("", "") and lb1[items[1]] and lb1[items[2]]
    # Mesos principals: an agent holds its own only, a load balancer none, a master all three.
    principals = ("mesos:credentials:agent", "mesos:credentials:marathon", "mesos:credentials:operator")
    digests = ("mesos:zk_password", "marathon:zk_password", "marathon:http_password")
    held = {
        node: [bool(value) for value in salt(node, "pillar.item", *principals, *digests)[node].values()]
        for node in ("ms3", "lb1", "mm2")
    }
    assert held == {"ms3": [True] + [False] * 5, "lb1": [False] * 6, "mm2": [True] * 6}


def test_the_generated_values_are_what_the_services_run_with():
    secrets = store()
    keepalived = node_exec("lb2", "cat /etc/keepalived/keepalived.conf").stdout
    assert f"auth_pass {secrets['vrrp_password']['value']}" in keepalived
    gossip = node_exec("ms3", "cat /etc/consul.d/gossip.json").stdout
    assert secrets["consul_gossip_key"]["value"] in gossip
    assert secrets["app_secret_key/test"]["value"] != secrets["app_secret_key/production"]["value"]


def test_a_version_that_is_not_an_image_tag_runs_nothing_anywhere():
    marker = "/tmp/platform-injected"
    result = salt_run("app.build", f"version=x;touch {marker}")
    assert result.returncode == 1
    assert "is not an image tag" in result.stdout
    assert not pathlib.Path(marker).exists()
    assert node_exec("registry", f"test -e {marker}").returncode == 1


def vip_holders() -> list[str]:
    return [lb for lb in ("lb1", "lb2") if PLATFORM["vip"] in node_exec(lb, "ip -4 addr").stdout]


def test_rotating_the_vrrp_password_reaches_both_lbs_and_one_holds_the_vip():
    before = store()["vrrp_password"]
    result = salt_run("site.secrets", "rotate=vrrp_password")
    assert result.returncode == 0, result.stdout[-3000:]
    after = store()["vrrp_password"]
    assert after["value"] != before["value"] and after["value"] not in result.stdout
    for lb in ("lb1", "lb2"):
        assert f"auth_pass {after['value']}" in node_exec(lb, "cat /etc/keepalived/keepalived.conf").stdout
    # Both speak the new password again: the VIP settles on the higher priority, lb1, alone.
    wait_for(lambda: vip_holders() == ["lb1"], timeout=30, interval=1)
    assert vip_holders() == ["lb1"]


def test_rotating_a_node_s_consul_token_replaces_it_on_the_servers_and_on_the_node():
    node, ca = "ms4", cluster_ca_file()
    api = f"https://{PLATFORM['nodes']['mm1']['ip']}:8501"

    def whose(secret: str) -> requests.Response:
        return requests.get(f"{api}/v1/acl/token/self", headers={"X-Consul-Token": secret}, verify=ca, timeout=5)

    before = site_secret(f"consul_agent_token/{node}")
    since = node_exec(node, "date +%s").stdout.strip()
    result = salt_run("site.secrets", f"rotate=consul_agent_token/{node}")
    assert result.returncode == 0, result.stdout[-3000:]
    after = site_secret(f"consul_agent_token/{node}")
    assert after != before and after not in result.stdout
    # The old token is gone, the new one is the node's own, and it is the only one of that name.
    assert whose(before).status_code == 403
    assert [identity["NodeName"] for identity in whose(after).json()["NodeIdentities"]] == [node]
    master = {"X-Consul-Token": site_secret("consul_master_token")}
    tokens = requests.get(f"{api}/v1/acl/tokens", headers=master, verify=ca, timeout=5).json()
    assert [t["Description"] for t in tokens].count(f"agent token of {node}") == 1
    # The node's agent runs on the new token: Consul was restarted on it and syncs its node
    # to the catalog again, which a refused token could not.
    assert after in node_exec(node, "cat /etc/consul.d/platform.json").stdout

    def since_restart() -> str:
        """The node's Consul log since its last start (the one on the new token)."""
        journal = node_exec(node, f"journalctl -u consul --since=@{since} --no-pager -o cat").stdout
        return journal.split("Consul agent running!")[-1]

    wait_for(lambda: "Synced node info" in since_restart(), timeout=60, interval=1)
    assert "blocked by ACLs" not in since_restart()


def test_rotating_the_gossip_key_puts_only_the_new_key_in_every_members_keyring_and_keeps_them_all():
    api, ca = f"https://{PLATFORM['nodes']['mm2']['ip']}:8501", cluster_ca_file()
    master = {"X-Consul-Token": site_secret("consul_master_token")}

    def keyring() -> list[dict]:
        return requests.get(f"{api}/v1/operator/keyring", headers=master, verify=ca, timeout=10).json()

    def members() -> dict[str, int]:
        answer = requests.get(f"{api}/v1/agent/members", headers=master, verify=ca, timeout=10).json()
        return {member["Name"]: member["Status"] for member in answer}

    before = site_secret("consul_gossip_key")
    assert [set(pool["Keys"]) for pool in keyring()] == [{before}, {before}]  # LAN and WAN
    result = salt_run("site.secrets", "rotate=consul_gossip_key")
    assert result.returncode == 0, result.stdout[-3000:]
    after = site_secret("consul_gossip_key")
    assert after != before and after not in result.stdout and before not in result.stdout
    # Every member of both pools (the servers' WAN, everyone's LAN) holds the new key, only it.
    pools = keyring()
    assert sorted(pool["NumNodes"] for pool in pools) == [3, len(PLATFORM["nodes"])]
    assert all(pool["Keys"] == {after: pool["NumNodes"]} for pool in pools)
    # Nobody left: every node is still a live member (1 = alive), gossiping on the new key.
    assert members() == {node: 1 for node in PLATFORM["nodes"]}
    for node in ("mm3", "lb2"):  # its key file, for its next first start
        assert after in node_exec(node, "cat /etc/consul.d/gossip.json").stdout


def test_the_cluster_ca_is_pinned_by_its_key_and_a_node_refuses_a_ca_with_another():
    pin = yaml.safe_load(STORE.read_text())["pins"]["ca"]
    key_of = (
        "openssl x509 -pubkey -noout -in /etc/pki/platform-ca/ca.crt | openssl pkey -pubin -outform der | sha256sum"
    )
    assert node_exec("registry", key_of).stdout.split()[0] == pin
    assert f"is pinned (key sha256:{pin})" in salt_run("site.pin_ca").stdout
    ca = node_exec("registry", "cat /etc/pki/platform-ca/ca.crt").stdout
    assert salt("ms3", "cluster_ca.trusted")["ms3"] == ca
    assert node_exec("ms3", "cat /usr/local/share/ca-certificates/platform-ca.crt").stdout == ca
    # The same node told another key (as if the mine now held a CA made again): nothing renders.
    refused = salt("ms3", "state.sls", "common.ca", "test=True", 'pillar={"ca": {"key_pin": "00"}}')["ms3"]
    assert f"has key sha256:{pin}, not the pinned sha256:00" in str(refused)
