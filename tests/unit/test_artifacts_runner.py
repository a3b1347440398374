"""artifacts.build: which Go modules the pillar asks for, and what it reports."""

from __future__ import annotations

import artifacts
import pytest
import topology


@pytest.fixture
def configure_loader_modules(repo_pillar, tmp_path):
    def salt_cmd(fun, *args):
        assert fun == "topology.component"
        return topology.component(*args)

    return {
        artifacts: {
            "__opts__": {"artifacts_dir": str(tmp_path)},
            "__salt__": {"pillar.show_pillar": lambda: repo_pillar, "salt.cmd": salt_cmd},
        },
        topology: {},
    }


@pytest.mark.parametrize(
    ("module", "binary"),
    [
        ("github.com/hashicorp/consul-template", "consul-template"),
        ("github.com/gliderlabs/registrator", "registrator"),
        ("example.org/tool/v2", "tool"),
    ],
)
def test_binary_name_is_what_go_install_produces(module, binary):
    assert artifacts.binary_name(module) == binary


def test_production_builds_consul_template_and_pulls_registrator(repo_pillar):
    assert artifacts.wanted(repo_pillar) == {
        "consul-template": f"github.com/hashicorp/consul-template@{repo_pillar['consul_template']['version']}",
    }


def test_a_site_pillar_can_add_a_go_module(repo_pillar):
    repo_pillar["nfs"]["go_module"] = "github.com/example/nfs-tool"
    repo_pillar["nfs"]["version"] = "v1.2.3"
    assert artifacts.wanted(repo_pillar)["nfs-tool"] == "github.com/example/nfs-tool@v1.2.3"


def test_a_site_pillar_can_build_registrator_from_its_go_module(repo_pillar):
    repo_pillar["registrator"]["go_module"] = "github.com/gliderlabs/registrator"
    repo_pillar["registrator"]["version"] = "v0.4.1-0.20250522041652-6bfadbc6decd"
    assert artifacts.wanted(repo_pillar)["registrator"] == (
        "github.com/gliderlabs/registrator@v0.4.1-0.20250522041652-6bfadbc6decd"
    )


def test_dry_run_builds_nothing(tmp_path):
    result = artifacts.build(test=True)
    assert result["built"] == ["consul-template"]
    assert list(tmp_path.iterdir()) == []


def test_binary_built_for_the_pinned_version_is_current(tmp_path, repo_pillar):
    (tmp_path / "consul-template").write_text("binary")
    (tmp_path / "consul-template.module").write_text(artifacts.wanted(repo_pillar)["consul-template"])
    result = artifacts.build(test=True)
    assert result["current"] == ["consul-template"]
    assert result["built"] == []


def test_missing_go_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(artifacts.shutil, "which", lambda name: None)
    result = artifacts.build()
    assert result["result"] is False
    assert result["retcode"] == 1
    assert result["errors"][0].startswith("consul-template: `go` is not on PATH; install Go to build")
