"""
Measure the offline lab: how long `cluster.up` takes (cold or warm), each of its steps, how
many states it changed, the memory of the whole lab, and how long `cluster.drift` (highstate
test=True on all ten nodes) takes afterwards. Prints numbers; asserts nothing.

    python benchmarks/lab_converge.py          # warm: the lab is up; re-converge it
    python benchmarks/lab_converge.py --cold   # make down, then lab up + cluster.up from scratch

Run from the repository root after `. ./activate`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
LAB = [sys.executable, str(REPO / "lab" / "lab.py")]


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    return time.monotonic() - started, proc


def cluster_up() -> tuple[float, dict]:
    seconds, proc = timed(["salt-run", "cluster.up", "--out=json", "--out-indent=-1"])
    # The JSON return is the last line; progress events come before it.
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return seconds, result


def cluster_drift() -> tuple[float, dict]:
    seconds, proc = timed(["salt-run", "cluster.drift", "--out=json", "--out-indent=-1"])
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def lab_memory_mib() -> dict[str, float]:
    """RSS of every process in each lab node (its nested containers included), in MiB.

    `docker stats` reads 0 B here (no memory cgroup controller for Docker on this host), so
    this sums RSS from inside each node: shared pages count once per process, an upper bound.
    """
    names = subprocess.run(
        ["docker", "ps", "--filter", "label=platform-lab", "--format", "{{.Names}}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    usage = {}
    for name in names:
        rss = subprocess.run(["docker", "exec", name, "ps", "-eo", "rss="], capture_output=True, text=True, check=True)
        usage[name] = sum(int(kib) for kib in rss.stdout.split()) / 1024
    return usage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="tear the lab down first and build it from scratch")
    parser.add_argument("--drift-rounds", type=int, default=3, help="cluster.drift runs to time after cluster.up")
    args = parser.parse_args()

    if args.cold:
        # Cold nodes, cached node images: the case the README's "cold make up" number is for.
        subprocess.run([*LAB, "down", "--keep-images"], cwd=REPO, check=True, capture_output=True)
        seconds, proc = timed([*LAB, "up", "--no-converge"])
        if proc.returncode:
            print(proc.stdout + proc.stderr)
            return 1
        print(f"lab nodes up, keys accepted:   {seconds:7.1f} s")

    seconds, result = cluster_up()
    changed = sum(sum(step["changed"].values()) for step in result.get("steps", []))
    print(f"salt-run cluster.up ({'cold' if args.cold else 'warm'}):  {seconds:7.1f} s, exit {result.get('retcode')}")
    print(f"states changed:                {changed:7d}")
    for step in result.get("steps", []):
        nodes = ",".join(step["nodes"]) or "master"
        print(f"  {step['step']:<12} {step['seconds']:7.1f} s  {sum(step['changed'].values()):4d} changed  {nodes}")
    if result.get("retcode"):
        print(f"FAILED: {result.get('comment')}")
    for attempt in range(1, args.drift_rounds + 1):
        seconds, report = cluster_drift()
        print(
            f"salt-run cluster.drift #{attempt}:     {seconds:7.1f} s wall, {report.get('seconds', 0):.1f} s checking; "
            f"{report.get('summary')}"
        )
    memory = lab_memory_mib()
    print(f"lab memory (RSS, {len(memory)} nodes):  {sum(memory.values()) / 1024:7.2f} GiB")
    for name, mib in sorted(memory.items()):
        print(f"  {name:<14} {mib:7.0f} MiB")
    return int(result.get("retcode", 1))


if __name__ == "__main__":
    sys.exit(main())
