"""
Faults on the running lab under a steady, bounded load through the VIP, with one user per
environment writing notes all along (prints a table; asserts nothing):

  F1  lb1's node is killed          -> the VIP answers from lb2
  F2  mm1's node is killed          -> quorum kept, Marathon's leader elsewhere, app.scale as fast as with all up
  F3  an agent's node is killed     -> its instance replaced on its environment's other agent, its
                                       services no longer passing (an agent running one, not the NFS server)
  F4  a production container killed, registrator restarted on its node -> no stale or duplicate entry
  F5  test scaled to 0 and back     -> nginx's config valid throughout, production untouched
  F7  every node stopped and started -> everything back with no command typed (only with --only F7)
  D1  across all of them            -> notes acknowledged but lost

A killed node is a `docker kill` of its lab container (a power loss), started again after the
measurement; "whole again in" is how long, from its start, it took to be back in service, and
the requests that failed meanwhile count too. Recovery is measured from the fault to the moment
the platform is as it should be (each row says what that is).

    python benchmarks/faults.py [--only F1,F3]

Run from the repository root after `. ./activate`, with the lab up (`make up`). About 8 minutes.
F7 (a cold restart of every node, `--only F7`) runs only when asked: it takes the whole lab down.
"""

from __future__ import annotations

import argparse
import pathlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "_modules")]  # the lab's driver, the tests' helpers, the app module
from lab.lab import container, node_exec  # noqa: E402
from tests.lab.conftest import (  # noqa: E402
    app_page,
    cluster_ca_file,
    marathon_auth,
    mesos_auth,
    salt,
    salt_run,
    site_secret,
)
from tests.lab.load import NoteWriters  # noqa: E402

PLATFORM = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
NODES = PLATFORM["nodes"]
MASTERS = sorted(n for n, spec in NODES.items() if "marathon" in spec["roles"])
CONSUL = f"https://{NODES['mm2']['ip']}:8501"  # mm2: up in every fault below


def until(check: Callable[[], object], timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until ``check()`` is truthy, or None after ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except (OSError, requests.RequestException, ValueError, KeyError):
            pass
        if time.monotonic() - started > timeout:
            return None
        time.sleep(interval)


def marathon(path: str) -> dict:
    """GET a Marathon path from the first master that answers within a second."""
    for node in MASTERS:
        try:
            answer = requests.get(f"http://{NODES[node]['ip']}:8080{path}", auth=marathon_auth(), timeout=(1, 5))
            if answer.status_code == 200:
                return answer.json()
        except requests.RequestException:
            continue
    raise OSError("no Marathon answered")


def task_hosts(env: str) -> list[str]:
    """Nodes of app-<env>'s running tasks whose health checks pass."""
    tasks = marathon(f"/v2/apps/app-{env}")["app"]["tasks"]
    return sorted(
        t["host"].split(".")[0]
        for t in tasks
        if t.get("state") == "TASK_RUNNING" and all(h.get("alive") for h in t.get("healthCheckResults") or [{}])
    )


def consul_entries(env: str) -> list[dict]:
    answer = requests.get(
        f"{CONSUL}/v1/health/service/app",
        params={"tag": env, "passing": "1"},
        headers={"X-Consul-Token": site_secret("consul_reader_token")},
        verify=cluster_ca_file(),
        timeout=3,
    )
    answer.raise_for_status()
    return answer.json()


def whole(env: str, instances: int, without: str | None = None) -> bool:
    """app-<env> runs ``instances`` healthy tasks, none on ``without``, and Consul passes exactly those."""
    hosts = task_hosts(env)
    passing = [entry["Node"]["Node"] for entry in consul_entries(env)]
    return len(hosts) == instances and without not in hosts and sorted(passing) == hosts


def agent_active(node: str) -> bool:
    """The node's Mesos agent is registered and active with the leading master."""
    for master in MASTERS:
        try:
            answer = requests.get(f"http://{NODES[master]['ip']}:5050/master/slaves", auth=mesos_auth(), timeout=(1, 5))
        except requests.RequestException:
            continue
        if answer.status_code == 200:
            return any(a["hostname"].split(".")[0] == node and a.get("active") for a in answer.json()["slaves"])
    return False


def served(env: str) -> bool:
    return app_page(env, "/signin", timeout=2)[0] == 200


def kill_node(node: str) -> None:
    subprocess.run(["docker", "kill", container(node)], check=True, capture_output=True)


def start_node(node: str) -> None:
    subprocess.run(["docker", "start", container(node)], check=True, capture_output=True)


def minion_answers(node: str) -> bool:
    return salt(node, "test.ping", "-t", "5", timeout=30).get(node) is True


def zookeeper_serves(node: str) -> bool:
    """The node's ZooKeeper is in the ensemble again (leader or follower), by its `srvr` word."""
    with socket.create_connection((NODES[node]["ip"], 2181), timeout=2) as sock:
        sock.sendall(b"srvr")
        return "Mode: " in sock.makefile().read()


def vip_on(node: str) -> bool:
    return PLATFORM["vip"] in node_exec(node, "ip -4 -o addr").stdout


class Row:
    def __init__(self, name: str, fault: str, recovered_when: str):
        self.name, self.fault, self.recovered_when = name, fault, recovered_when
        self.failed: int | None = None  # None: not measured
        self.recovery: float | None = None
        self.back: float | None = None
        self.notes: list[str] = []


def measure(row: Row, writers: NoteWriters, action: Callable[[], None], recovered: Callable[[], bool],
            restore: Callable[[], float | None] | None = None, timeout: float = 180) -> Row:  # fmt: skip
    print(f"{row.name}: {row.fault} ...", flush=True)
    started = time.monotonic()
    action()
    if until(recovered, timeout, interval=0.2) is not None:
        row.recovery = time.monotonic() - started  # from the fault, the action's own time included
    if restore:
        row.back = restore()
    # Requests in flight when the platform became whole again finish within their 5 s timeout.
    time.sleep(5)
    row.failed = writers.failed_between(started, time.monotonic())
    return row


def f1(writers: NoteWriters) -> Row:
    row = Row("F1", "lb1's node killed", "app-test and app-production served through the VIP from lb2")

    def restore() -> float | None:
        start_node("lb1")
        return until(lambda: vip_on("lb1") and served("test") and served("production"), 180, interval=0.5)

    return measure(row, writers, lambda: kill_node("lb1"),
                   lambda: vip_on("lb2") and served("test") and served("production"), restore)  # fmt: skip


def f2(writers: NoteWriters) -> Row:
    row = Row("F2", "mm1's node killed", "a Marathon leader on mm2/mm3; `app.scale` production 3 and back")
    scale_times: list[float] = []

    def scale_round() -> None:
        for instances in (3, 2):
            started = time.monotonic()
            proc = salt_run("app.scale", "env=production", f"instances={instances}", timeout=600)
            scale_times.append(time.monotonic() - started)
            if proc.returncode != 0:
                row.notes.append(f"app.scale instances={instances} failed: {proc.stdout[-300:]}")

    scale_round()  # all masters up: the baseline
    baseline = sum(scale_times)
    scale_times.clear()

    def leader_elsewhere() -> bool:
        return marathon("/v2/leader")["leader"].split(".")[0] in ("mm2", "mm3")

    def restore() -> float | None:
        start_node("mm1")
        return until(lambda: minion_answers("mm1") and zookeeper_serves("mm1"), 300, interval=2)

    started = time.monotonic()
    measure(row, writers, lambda: kill_node("mm1"), leader_elsewhere, None, timeout=120)
    scale_round()  # with mm1 dead
    row.notes.append(f"app.scale to 3 and back: {baseline:.1f} s with all masters up, "
                     f"{sum(scale_times):.1f} s with mm1 dead")  # fmt: skip
    row.back = restore()
    row.failed = writers.failed_between(started, time.monotonic())  # mm1's return included
    return row


def f3(writers: NoteWriters) -> Row:
    # An agent running an instance, not the NFS server (its loss is a different fault), whose
    # environment has another agent to take the instance.
    agents = {env: sorted(n for n, spec in NODES.items() if spec.get("env") == env and "mesos-agent" in spec["roles"])
              for env in PLATFORM["environments"]}  # fmt: skip
    env, node = next(
        (env, host)
        for env in PLATFORM["environments"]
        for host in task_hosts(env)
        if "nfs-server" not in NODES[host]["roles"] and len(agents[env]) > 1
    )
    instances = len(task_hosts(env))
    row = Row(
        "F3", f"{node}'s node killed", f"{instances} {env} instances healthy, none on {node}, Consul passing those"
    )

    def restore() -> float | None:
        start_node(node)
        took = until(lambda: minion_answers(node) and agent_active(node) and whole(env, instances), 300, 1)
        hosts = task_hosts(env)
        if len(hosts) != instances:
            row.notes.append(f"after {node} came back, {env} runs {len(hosts)} instances, not {instances}")
        orphans = node_exec(node, "docker ps -q --filter label=standin.app-id").stdout.split()
        if orphans and node not in hosts:
            row.notes.append(f"{node} came back running {len(orphans)} app container(s) Marathon does not count")
        return took

    return measure(row, writers, lambda: kill_node(node), lambda: whole(env, instances, without=node), restore)


def f4(writers: NoteWriters) -> Row:
    hosts = task_hosts("production")
    instances, node = len(hosts), hosts[0]
    row = Row("F4", f"a production container on {node} killed, registrator restarted",
              "Consul passes exactly Marathon's tasks")  # fmt: skip

    killed: list[str] = []

    def action() -> None:
        names = node_exec(node, "docker ps --format '{{.Names}}' --filter label=standin.app-id").stdout.split()
        killed.append(names[0])
        node_exec(node, f"docker kill {names[0]}")
        node_exec(node, "docker restart registrator")

    def clean() -> bool:
        # Registrator names a service <node>:<container>:<port>: the killed one must be gone.
        ids = [entry["Service"]["ID"] for entry in consul_entries("production")]
        fresh = not any(f":{killed[0]}:" in service_id for service_id in ids)
        return fresh and len(ids) == len(set(ids)) == instances and whole("production", instances)

    measure(row, writers, action, clean, timeout=120)
    time.sleep(10)  # a stale entry would show by now
    if not clean():
        row.notes.append("a stale or duplicate Consul entry 10 s after recovery")
    return row


def f5(writers: NoteWriters) -> Row:
    instances = len(task_hosts("test"))
    row = Row(
        "F5", "test scaled to 0 and back", "test served again, from the scale-up command; production's failures count"
    )
    invalid = []

    def nginx_valid() -> bool:
        for lb in ("lb1", "lb2"):
            if node_exec(lb, "docker exec platform-lb nginx -t -q").returncode != 0:
                invalid.append(lb)
        return not invalid

    started = time.monotonic()
    salt_run("app.scale", "env=test", "instances=0", timeout=600)
    nginx_valid()
    back = time.monotonic()
    salt_run("app.scale", "env=test", f"instances={instances}", timeout=600)
    nginx_valid()
    waited = until(lambda: served("test") and whole("test", instances), 120, interval=0.5)
    row.recovery = None if waited is None else time.monotonic() - back
    time.sleep(5)
    row.failed = sum(1 for when, env, _ in writers.failures if env == "production" and when >= started)
    if invalid:
        row.notes.append(f"nginx -t failed on {', '.join(sorted(set(invalid)))}")
    return row


def f7(writers: NoteWriters) -> Row:
    counts = {env: len(task_hosts(env)) for env in PLATFORM["environments"]}
    row = Row("F7", "every node stopped, then started (a cold restart)",
              "both environments served through the VIP with all their instances, no command typed")  # fmt: skip
    names = [container(node) for node in sorted(NODES)]

    def action() -> None:
        subprocess.run(["docker", "stop", "-t", "20", *names], check=True, capture_output=True)
        subprocess.run(["docker", "start", *names], check=True, capture_output=True)

    def whole_again() -> bool:
        return all(served(env) and whole(env, count) for env, count in counts.items())

    return measure(row, writers, action, whole_again, timeout=900)


FAULTS = {"F1": f1, "F2": f2, "F3": f3, "F4": f4, "F5": f5, "F7": f7}


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="F1,F2,F3,F4,F5", help="comma-separated faults (default: all but F7)")
    args = parser.parse_args()
    chosen = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    rows = []
    with NoteWriters(PLATFORM["environments"], max_requests=20000, max_seconds=1800) as writers:
        time.sleep(5)  # the load runs before the first fault
        for name in chosen:
            try:
                rows.append(FAULTS[name](writers))
            except Exception as exc:  # one fault's trouble is a row, and the others still run
                row = Row(name, "not measured", f"{type(exc).__name__}: {exc}")
                rows.append(row)
            time.sleep(5)
    lost = writers.lost()
    written = sum(len(notes) for notes in writers.written.values())
    print()
    print(f"{'fault':5}  {'failed requests':>15}  {'recovered in':>12}  {'whole again in':>14}  what")
    for row in rows:
        failed = "-" if row.failed is None else row.failed
        print(f"{row.name:5}  {failed:>15}  {seconds(row.recovery):>12}  {seconds(row.back):>14}  "
              f"{row.fault}: {row.recovered_when}")  # fmt: skip
        for note in row.notes:
            print(f"{'':5}  {note}")
    print(f"D1     notes lost: {sum(len(v) for v in lost.values())} of {written} acknowledged "
          f"({writers.count} writes, {len(writers.failures)} failed requests in all)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
