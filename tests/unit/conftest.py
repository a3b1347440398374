"""Unit-test fixtures: the execution modules that read the state tree, loaded without a daemon."""

from __future__ import annotations

import hashlib
import inspect
import pathlib

import platform_runner
import pytest
import salt.modules.slsutil
import site_secrets
import topology

REPO = pathlib.Path(__file__).resolve().parents[2]


def file_from_state_tree(url: str) -> str:
    """cp.get_file_str against the repository's salt/ directory."""
    path = REPO / "salt" / url.removeprefix("salt://")
    return path.read_text() if path.exists() else ""


def secret_fingerprint(secret: str) -> str:
    """What Marathon's `secret_key` label must show for a secret: the start of its sha256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@pytest.fixture
def topology_funcs() -> dict:
    """__salt__ for modules that read formula settings and the topology (apps, topology)."""
    return {
        "cp.get_file_str": file_from_state_tree,
        "slsutil.merge": salt.modules.slsutil.merge,
        "topology.component": topology.component,
        "topology.settings": topology.settings,
        "topology.registry": topology.registry,
        "topology.nodes": topology.nodes,
    }


@pytest.fixture
def runner_utils() -> dict:
    """__utils__ of a runner, as Salt's loader names them: the shared runner helper and the site's secrets."""
    return {
        f"{module.__name__}.{name}": function
        for module in (platform_runner, site_secrets)
        for name, function in vars(module).items()
        if inspect.isfunction(function) and function.__module__ == module.__name__ and not name.startswith("_")
    }
