"""
Build the platform's Go programs on the master, from their Go modules.

Every component in pillar with a ``go_module`` (consul-template, registrator) is built
with ``go install <module>@<version>`` into ``artifacts_dir`` (master.conf), which the
fileserver serves as ``salt://artifacts/<binary>`` (the name ``go install`` gives it).
The Go checksum database pins each module's content; a binary already built for the
pinned version is not rebuilt.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

log = logging.getLogger(__name__)


def _progress(message: str) -> None:
    __utils__["platform_runner.progress"](message, globals().get("__jid_event__"))


def wanted(pillar: dict[str, Any]) -> dict[str, str]:
    """``binary → module@version`` for every component this site builds from a Go module."""
    modules = {}
    for name in sorted(pillar):
        data = pillar[name]
        # Only components that name a Go module somewhere (salt.cmd builds a loader per call).
        if not isinstance(data, dict) or not ("go_module" in data or "go_module" in (data.get("lab") or {})):
            continue
        component = __salt__["salt.cmd"]("topology.component", name, pillar)
        if component.get("go_module") and component.get("version"):
            modules[binary_name(component["go_module"])] = f"{component['go_module']}@{component['version']}"
    return modules


def binary_name(module: str) -> str:
    """What ``go install`` names a module's binary: its last path element, skipping ``/vN``."""
    parts = module.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def build(test: bool = False, pillar: dict[str, Any] | None = None) -> dict[str, Any]:
    """
    Build each pinned Go module that is missing or built for another version. ``pillar`` is
    the master's pillar when the caller (cluster.up) has it already.

    CLI Example:

    .. code-block:: bash

        salt-run artifacts.build
    """
    target_dir = os.path.abspath(__opts__.get("artifacts_dir", ".salt/built/artifacts"))
    os.makedirs(target_dir, exist_ok=True)
    result: dict[str, Any] = {"result": True, "built": [], "current": [], "errors": []}
    go = shutil.which("go")
    pillar = pillar if pillar is not None else __salt__["pillar.show_pillar"]()
    for name, module in wanted(pillar).items():
        binary = os.path.join(target_dir, name)
        # Records which module@version the binary was built from.
        stamp = binary + ".module"
        if os.path.exists(binary) and _read(stamp) == module:
            result["current"].append(name)
            continue
        if test:
            result["built"].append(name)
            continue
        if not go:
            result["errors"].append(f"{name}: `go` is not on PATH; install Go to build {module}")
            continue
        _progress(f"building {module}")
        error = _go_install(go, module, binary)
        if error:
            result["errors"].append(f"{name}: go install {module} failed: {error}")
            continue
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write(module)
        result["built"].append(name)
    result["result"] = not result["errors"]
    if result["errors"]:
        result["retcode"] = 1
    return result


def _go_install(go: str, module: str, binary: str) -> str:
    """Install ``module`` into a scratch GOBIN and move the binary into place; an error or ''."""
    with tempfile.TemporaryDirectory() as gobin:
        env = dict(os.environ, GOBIN=gobin, CGO_ENABLED="0", GOOS="linux", GOARCH="amd64")
        proc = subprocess.run([go, "install", module], env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        built = [entry for entry in os.listdir(gobin) if os.path.isfile(os.path.join(gobin, entry))]
        if len(built) != 1:
            return f"expected one binary, found {built}"
        shutil.move(os.path.join(gobin, built[0]), binary)
    os.chmod(binary, 0o755)
    return ""


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return ""
