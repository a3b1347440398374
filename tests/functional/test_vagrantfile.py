"""The Vagrantfile builds the ten VMs of the pillar topology."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def vagrant() -> str:
    path = shutil.which("vagrant")
    if not path:
        pytest.skip("vagrant is not installed (apt-get install vagrant; `make test` does it)")
    return path


def test_vagrant_validate_passes(vagrant):
    ret = subprocess.run([vagrant, "validate"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert ret.returncode == 0, ret.stdout + ret.stderr
    assert "Vagrantfile validated successfully." in ret.stdout
