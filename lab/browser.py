"""Debian's Chromium, headless, on the lab's pages: the DOM it renders, and screenshots for the README.

    python3 lab/browser.py          # docs/screenshots/{mesos,marathon}.png from the running lab

It may load only what it is pointed at: every other host resolves to nothing, so Chromium's
background services (updates, metrics) reach nowhere.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import urllib.parse

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
FLAGS = [
    "--headless",
    # The lab and its tests run as root, where Chromium's sandbox refuses to start.
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _flags(url: str) -> list[str]:
    host = urllib.parse.urlsplit(url).hostname
    return [*FLAGS, f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {host}"]


def _chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        sys.exit("Chromium is missing: apt-get install chromium (`make test` installs it)")
    return path


def dom(url: str) -> str:
    """The page's DOM after Chromium loaded it."""
    proc = subprocess.run([_chromium(), *_flags(url), "--dump-dom", url], capture_output=True, text=True, timeout=90)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium could not load {url}: {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(url: str, path: pathlib.Path, size: str = "1280,860") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_chromium(), *_flags(url), f"--window-size={size}", f"--screenshot={path}", url],
        capture_output=True, timeout=90, check=True,
    )  # fmt: skip


if __name__ == "__main__":
    platform = yaml.safe_load((REPO / "pillar" / "platform.sls").read_text())["platform"]
    master = platform["nodes"]["mm1"]["ip"]
    # Both pages ask HTTP Basic: the runners' credentials, from the site's store.
    store = yaml.safe_load((REPO / ".salt" / "secrets.yaml").read_text())["secrets"]
    logins = {
        "mesos": f"operator:{store['mesos_operator_secret']['value']}",
        "marathon": f"platform:{store['marathon_http_password']['value']}",
    }
    for name, port in (("mesos", 5050), ("marathon", 8080)):
        target = REPO / "docs" / "screenshots" / f"{name}.png"
        screenshot(f"http://{logins[name]}@{master}:{port}/", target)
        print(target.relative_to(REPO))
