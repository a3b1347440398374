"""
Measure a version upgrade of the app under steady load through the VIP (prints numbers;
asserts nothing), side by side with the 2015 way of deploying (delete the app, create it):

- deploy latency: from the command's start until every answer through the VIP comes from the
  new version (and when the command itself returned);
- failed requests (not a 200, or no answer) during the upgrade, at a steady request rate;
- scaling: from `app.scale` to 5 instances until lb1's nginx has 5 upstreams.

    python benchmarks/app_deploy.py [--env test] [--instances 3] [--rate 100]

Run from the repository root after `. ./activate`, with the lab up and the app deployed
(`make up`). Builds the tag <app:version>-next once, and leaves the environment on
pillar app:version with its usual instance count.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "_modules")]  # the lab's driver, the tests' helpers, the app module
from tests.lab.conftest import app_client, marathon_auth  # noqa: E402  (HTTPS through the VIP; Marathon's login)

PLATFORM = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
APP = yaml.safe_load((REPO / "pillar" / "app.sls").read_text())["app"]
MARATHON = f"http://{PLATFORM['nodes']['mm1']['ip']}:8080"
# The fields of an app definition (GET /v2/apps/{id} adds read-only ones that POST refuses).
DEFINITION_FIELDS = (
    "id", "instances", "cpus", "mem", "networks", "container", "env", "labels", "constraints", "healthChecks",
    "upgradeStrategy", "taskKillGracePeriodSeconds",
)  # fmt: skip


class Load:
    """GET /health at a steady rate; each answer's time, HTTP status (0: none) and version."""

    def __init__(self, env: str, rate: float):
        self.url, self.interval = f"https://app-{env}/health", 1 / rate
        self.answers: list[tuple[float, int, str | None]] = []
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=32)
        self.session = app_client()

    def one(self) -> None:
        try:
            reply = self.session.get(self.url, timeout=5)
            answer = (time.monotonic(), reply.status_code, reply.headers.get("X-Notejam-Version"))
        except requests.RequestException:
            answer = (time.monotonic(), 0, None)
        with self.lock:
            self.answers.append(answer)

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopped.is_set():
            self.pool.submit(self.one)
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Load:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()
        self.pool.shutdown(wait=True)

    def report(self, started: float, version: str) -> dict:
        """Failures, the achieved rate, and when the last answer not from ``version`` came."""
        answers = sorted(self.answers)
        others = [at for at, status, served in answers if at >= started and served != version]
        duration = answers[-1][0] - answers[0][0] if len(answers) > 1 else 0
        return {
            "requests": len(answers),
            "rate": len(answers) / duration if duration else 0,
            "failed": sum(1 for _, status, _ in answers if status != 200),
            "served_after": (max(others) - started) if others else 0.0,
        }


def salt_run(*args: str) -> dict:
    proc = subprocess.run(
        ["salt-run", *args, "--out=json", "--out-indent=-1"], cwd=REPO, capture_output=True, text=True, check=False
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if proc.returncode != 0:
        raise SystemExit(f"salt-run {' '.join(args)} failed: {result.get('comment', result)}")
    return result


def rolling(env: str, version: str, instances: int, rate: float) -> dict:
    with Load(env, rate) as load:
        time.sleep(2)
        started = time.monotonic()
        salt_run("app.deploy", f"env={env}", f"version={version}", f"instances={instances}")
        returned = time.monotonic() - started
        time.sleep(3)
    return load.report(started, version) | {"returned": returned}


def scale_to_upstreams(env: str, instances: int) -> float:
    """Seconds from `app.scale` until lb1's nginx config lists ``instances`` servers for app-<env>."""
    started = time.monotonic()
    scale = subprocess.Popen(["salt-run", "app.scale", f"env={env}", f"instances={instances}", "--out=quiet"], cwd=REPO)
    while upstreams(env) != instances:
        if time.monotonic() - started > 300:
            raise SystemExit(f"app-{env} did not reach {instances} upstreams in 300 s")
        time.sleep(0.1)
    seconds = time.monotonic() - started
    scale.wait()
    return seconds


def upstreams(env: str) -> int:
    config = subprocess.run(
        ["docker", "exec", "lab-lb1", "docker", "exec", "platform-lb", "cat", "/etc/nginx/conf.d/platform-lb.conf"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    block = re.search(rf"upstream app-{env} {{(.*?)}}", config, re.S)
    return len(re.findall(r"^\s*server ", block.group(1), re.M)) if block else 0


def deployments() -> list[dict]:
    return requests.get(f"{MARATHON}/v2/deployments", auth=marathon_auth(), timeout=10).json()


def delete_then_create(env: str, instances: int, rate: float) -> dict:
    """The 2015 deploy: DELETE the app, wait until it is gone, POST it again."""
    app_id = f"/app-{env}"
    current = requests.get(f"{MARATHON}/v2/apps{app_id}", auth=marathon_auth(), timeout=10).json()["app"]
    definition = {field: current[field] for field in DEFINITION_FIELDS if field in current} | {"instances": instances}
    version = current["container"]["docker"]["image"].rsplit(":", 1)[1]
    with Load(env, rate) as load:
        time.sleep(2)
        started = time.monotonic()
        requests.delete(f"{MARATHON}/v2/apps{app_id}", auth=marathon_auth(), timeout=10).raise_for_status()
        # The app is gone once its stop deployment has finished: only then can the id be created again.
        while any(app_id in dep["affectedApps"] for dep in deployments()):
            time.sleep(0.2)
        requests.post(f"{MARATHON}/v2/apps", auth=marathon_auth(), json=definition, timeout=10).raise_for_status()
        while load.session.get(f"https://app-{env}/health", timeout=5).status_code != 200:
            time.sleep(0.1)
        returned = time.monotonic() - started
        time.sleep(3)
    # The old tasks were the same version: "served" is when the gap ended.
    report = load.report(started, version)
    gap = [at for at, status, _ in sorted(load.answers) if at >= started and status != 200]
    report["served_after"] = (max(gap) - started) if gap else 0.0
    return report | {"returned": returned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="test")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--rate", type=float, default=100)
    args = parser.parse_args()
    base, nxt = APP["version"], f"{APP['version']}-next"
    usual = APP["environments"][args.env]["instances"]

    print(f"preparing: app:{nxt} in the registry, app-{args.env} on app:{base} x{args.instances}", flush=True)
    salt_run("app.build", f"version={nxt}")
    salt_run("app.deploy", f"env={args.env}", f"version={base}", f"instances={args.instances}")

    print(f"rolling upgrade app:{base} -> app:{nxt} under {args.rate:g} requests/s ...", flush=True)
    rolled = rolling(args.env, nxt, args.instances, args.rate)
    print(f"2015 way (delete, then create) of app:{nxt} under {args.rate:g} requests/s ...", flush=True)
    recreated = delete_then_create(args.env, args.instances, args.rate)
    salt_run("app.deploy", f"env={args.env}", f"version={base}", f"instances={usual}")
    print(f"scaling app-{args.env} from {usual} to 5 instances ...", flush=True)
    scaled = scale_to_upstreams(args.env, 5)
    salt_run("app.scale", f"env={args.env}", f"instances={usual}")

    print()
    print(f"{'':34}{'rolling (app.deploy)':>22}{'delete + create (2015)':>24}")
    rows = (
        ("new version served after (s)", "served_after", "{:.1f}"),
        ("command returned after (s)", "returned", "{:.1f}"),
        ("failed requests", "failed", "{:d}"),
        ("requests sent", "requests", "{:d}"),
        ("achieved rate (requests/s)", "rate", "{:.0f}"),
    )
    for label, key, fmt in rows:
        print(f"{label:34}{fmt.format(rolled[key]):>22}{fmt.format(recreated[key]):>24}")
    print(f"{'scaled to 5, in nginx after (s)':34}{scaled:>22.1f}")
    print(f"\n{args.instances} instances in {args.env}; app-{args.env} is back on app:{base} x{usual}")


if __name__ == "__main__":
    main()
