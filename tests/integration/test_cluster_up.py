"""salt-run cluster.up against a real master and real minions."""

from __future__ import annotations

import yaml

from .conftest import platform_pillar


def test_up_converges_nodes_in_the_design_order(fresh_platform):
    ret = fresh_platform.salt_run.run("cluster.up")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    order = [node for node, _ in fresh_platform.applied()]
    # The registry's highstate, then its base images, then the three masters together, then
    # the NFS agent, and the load balancer image last.
    assert len(order) == 7, order
    assert order[:2] == ["reg", "reg"]
    assert sorted(order[2:5]) == ["m1", "m2", "m3"]
    assert order[5:] == ["a1", "reg"]
    assert [step["step"] for step in ret.data["steps"]] == [
        "artifacts",
        "registry",
        "base-images",
        "masters",
        "nfs-server",
        "lb-image",
        "verify",
    ]


def test_up_generates_the_site_secrets_and_only_their_roles_receive_them(fresh_platform):
    (fresh_platform.work_dir / "secrets.yaml").unlink()
    ret = fresh_platform.salt_run.run("cluster.up")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    store = fresh_platform.work_dir / "secrets.yaml"
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    value = yaml.safe_load(store.read_text())["secrets"]["ensemble_password"]["value"]
    salt = fresh_platform.master.salt_cli(timeout=120)
    item = "integration:ensemble_password"
    m1 = salt.run("pillar.item", item, "unmask=True", minion_tgt="m1")
    a1 = salt.run("pillar.item", item, "unmask=True", minion_tgt="a1")
    assert m1.data == {item: value}
    assert a1.data == {item: ""}
    assert value not in ret.stdout


def test_a_minion_claiming_a_role_in_a_pillar_override_gets_no_secret(fresh_platform):
    salt = fresh_platform.master.salt_cli(timeout=120)
    claim = '{"platform": {"nodes": {"a1": {"ip": "192.168.33.14", "roles": ["zookeeper"]}}}}'
    items = salt.run("pillar.items", f"pillar={claim}", "unmask=True", minion_tgt="a1")
    assert items.returncode == 0, items.stdout + items.stderr
    # The override itself is a1's to see; the secret of the role it claims is not.
    assert items.data["platform"]["nodes"]["a1"]["roles"] == ["zookeeper"]
    assert "ensemble_password" not in items.data.get("integration", {})


def test_failure_stops_the_run_and_names_step_node_and_state(fresh_platform):
    (fresh_platform.work_dir / "fail-m2").touch()
    ret = fresh_platform.salt_run.run("cluster.up")
    assert ret.returncode != 0
    assert ret.data["failed"]["step"] == "masters"
    assert list(ret.data["failed"]["nodes"]) == ["m2"]
    assert "marker-node-healthy" in ret.data["failed"]["nodes"]["m2"][0]
    assert "step masters failed on m2" in ret.data["comment"]
    # Nothing after the failing step ran: no NFS agent, no load balancer image.
    assert "a1" not in [node for node, _ in fresh_platform.applied()]


def test_duplicate_ip_exits_non_zero_naming_both_nodes_and_applies_nothing(fresh_platform):
    pillar = platform_pillar(str(fresh_platform.work_dir))
    pillar["platform"]["nodes"]["m3"]["ip"] = pillar["platform"]["nodes"]["m2"]["ip"]
    fresh_platform.write_pillar(pillar)
    ret = fresh_platform.salt_run.run("cluster.up")
    assert ret.returncode != 0
    assert "duplicate ip 192.168.33.12 on nodes m2, m3" in ret.stdout
    assert fresh_platform.applied() == []


def test_a_dry_run_of_a_site_without_secrets_says_how_to_make_them(fresh_platform):
    (fresh_platform.work_dir / "secrets.yaml").unlink()
    ret = fresh_platform.salt_run.run("cluster.up", "test=True")
    assert ret.returncode == 1
    assert "no value yet for secret(s) ensemble_password: run `salt-run site.secrets`" in ret.stdout
    assert fresh_platform.applied() == [] and not (fresh_platform.work_dir / "secrets.yaml").exists()


def test_dry_run_changes_nothing(fresh_platform):
    ret = fresh_platform.salt_run.run("cluster.up", "test=True")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    assert fresh_platform.applied() == []
    masters = next(step for step in ret.data["steps"] if step["step"] == "masters")
    assert masters["changed"] == {"m1": 2, "m2": 2, "m3": 2}


def test_status_reports_every_node_with_its_last_highstate(fresh_platform):
    assert fresh_platform.salt_run.run("cluster.up").returncode == 0
    ret = fresh_platform.salt_run.run("cluster.status")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    rows = {row["node"]: row for row in ret.data["rows"]}
    assert sorted(rows) == ["a1", "m1", "m2", "m3", "reg"]
    assert all(row["reachable"] for row in rows.values())
    # The highstate of cluster.up counts; its images.* runs on reg do not hide it.
    assert all(row["last_highstate"].endswith(" ok") for row in rows.values()), rows
    assert rows["m2"]["services"]["zookeeper"] == "integration double"


def test_status_prints_a_table_for_humans(fresh_platform):
    ret = fresh_platform.salt_run.run("cluster.status", "--out=platform_status")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    lines = ret.stdout.splitlines()
    assert lines[0].split() == ["NODE", "ROLES", "UP", "LAST", "HIGHSTATE", "SERVICES"]
    assert [line.split()[0] for line in lines[1:] if line and not line.startswith(" ")][:5] == [
        "a1",
        "m1",
        "m2",
        "m3",
        "reg",
    ]
    assert lines[-1] == "all 5 nodes healthy"
