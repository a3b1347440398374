"""cluster.drift on the lab's real nodes: hand edits are found, named, and healed on purpose."""

from __future__ import annotations

import datetime
import json

import pytest
import yaml

from .conftest import REPO, node_exec, salt, salt_run, wait_for


def drift(*args: str) -> tuple[int, dict]:
    proc = salt_run("cluster.drift", *args)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def first_check():
    """The whole lab checked once (a full-lab check costs over a minute on two cores)."""
    return drift()


def test_a_converged_lab_is_clean(first_check):
    """`make up` converged every node and the tests before this one put back what they changed."""
    code, report = first_check
    assert code == 0, report["summary"]
    assert {verdict["status"] for verdict in report["nodes"].values()} == {"clean"}


def test_a_hand_edit_and_a_stopped_service_are_named_then_healed():
    node_exec("ms2", "echo '# edited by hand' >> /etc/consul.d/00-log_level.hcl")
    # Consul's config holds the agent's ACL tokens: its drift is named, its diff never shown.
    node_exec("ms2", "echo '// edited by hand' >> /etc/consul.d/platform.json")
    node_exec("lb2", "docker stop platform-lb")

    code, report = drift()
    assert code == 2, report["summary"]
    drifted = {node: verdict for node, verdict in report["nodes"].items() if verdict["status"] != "clean"}
    assert sorted(drifted) == ["lb2", "ms2"]
    ms2 = {state["id"]: state for state in drifted["ms2"]["states"]}
    assert ms2["consul-config-file-managed"]["function"] == "file.managed"
    assert ms2["consul-config-file-managed"]["name"] == "/etc/consul.d/platform.json"
    assert "-# edited by hand" in ms2["consul-log-level-file-managed"]["change"]
    assert "edited by hand" not in ms2["consul-config-file-managed"]["change"]
    gossip_key = yaml.safe_load((REPO / ".salt" / "secrets.yaml").read_text())["secrets"]["consul_gossip_key"]["value"]
    assert gossip_key not in json.dumps(report)
    lb2 = {state["id"]: state for state in drifted["lb2"]["states"]}
    assert lb2["lb-container-running"]["function"] == "docker_container.running"
    assert "would be started" in lb2["lb-container-running"]["change"]

    # Healing and checking again need only the two nodes (the whole lab was checked above).
    code, report = drift("tgt=lb2,ms2", "fix=True")
    assert code == 0, report["summary"]
    assert sorted(node for node, v in report["nodes"].items() if v["status"] == "fixed") == ["lb2", "ms2"]
    assert (
        "edited by hand"
        not in node_exec("ms2", "cat /etc/consul.d/platform.json /etc/consul.d/00-log_level.hcl").stdout
    )
    assert "running" in node_exec("lb2", "docker inspect -f '{{.State.Status}}' platform-lb").stdout

    code, report = drift("tgt=lb2,ms2")
    assert code == 0, report["summary"]


def test_a_file_dropped_into_a_config_dir_is_drift_and_fix_removes_it():
    """Consul reads every file in /etc/consul.d: a stranger there changes the agent unseen."""
    node_exec("ms2", 'echo \'{"log_level": "trace"}\' > /etc/consul.d/zz-foreign.json')

    code, report = drift("tgt=ms2")
    assert code == 2, report["summary"]
    states = {state["id"]: state for state in report["nodes"]["ms2"]["states"]}
    assert "zz-foreign.json" in states["consul-config-dir-cleaned"]["change"], states

    code, report = drift("tgt=ms2", "fix=True")
    assert code == 0, report["summary"]
    assert node_exec("ms2", "ls /etc/consul.d").stdout.split() == ["00-log_level.hcl", "gossip.json", "platform.json"]


def test_only_the_targeted_nodes_are_checked():
    code, report = drift("tgt=lb*,ms2")
    assert code == 0, report["summary"]
    assert sorted(report["nodes"]) == ["lb1", "lb2", "ms2"]


def test_an_unknown_target_is_an_error_that_checks_nothing():
    code, report = drift("tgt=nope*")
    assert code == 1
    assert "tgt='nope*' matches no node" in report["comment"]


def test_last_reports_the_scheduled_check_of_each_node_with_its_age():
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")  # the master's clock, like the job cache
    # Run ms3's scheduled check now instead of waiting for its interval.
    assert salt("ms3", "schedule.run_job", "platform-drift-check")["ms3"]["result"]

    def reported() -> dict | None:
        """ms3's latest scheduled check, once it is the one just run."""
        code, report = drift("last=True", "tgt=ms3")
        node = report["nodes"]["ms3"]
        return (code, node) if node.get("checked_at", "") >= started else None

    wait_for(reported, timeout=180, interval=5)
    code, node = reported()
    assert code == 0
    assert node["status"] == "clean"
    assert node["age"] in ("0 min ago", "1 min ago")
