"""salt/, pillar/ and _modules/ are production's: the lab differs by data and packages, not by branches."""

from __future__ import annotations

import re

from tests.conftest import REPO

LAB_BRANCH = re.compile(
    r"stand_?in"
    r"|site['\"]?\)?\]?\s*[!=]=\s*['\"](lab|production)['\"]"  # site == 'lab', get('platform:site') != 'production'
    r"|['\"]lab['\"]\s*[!=]=|\bsite\b.*\bin\b.*['\"]lab['\"]"  # 'lab' == site, site in ('lab', ...)
    r"|\.get\(['\"]lab['\"]|pop\(['\"]lab['\"]"  # a component's `lab:` block
)


def lab_branches() -> set[str]:
    found = set()
    for tree in ("salt", "pillar", "_modules", "_states"):
        for path in (REPO / tree).rglob("*"):
            if (
                path.is_file()
                and path.suffix in (".sls", ".jinja", ".yaml", ".py")
                and LAB_BRANCH.search(path.read_text())
            ):
                found.add(str(path.relative_to(REPO)))
    return found


def test_no_lab_branch_in_the_production_tree():
    assert lab_branches() == set()


def test_the_branch_pattern_catches_the_forms_it_must():
    branches = (
        "{%- if mesos.stand_in %}",
        "if pillar['platform']['site'] == 'lab':",
        'data.pop("lab", {})',
        "registrator.get('stand_in')",
        "{%- if salt['pillar.get']('platform:site') == 'lab' %}",
        "{%- if 'lab' == platform.site %}",
        "if site != 'production':",
        "{%- if platform.site in ['lab'] %}",
    )
    for line in branches:
        assert LAB_BRANCH.search(line), line
    assert not LAB_BRANCH.search("{%- set site = salt['topology.node']() %}")
