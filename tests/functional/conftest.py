"""
Each node's highstate, rendered by Salt's own loaders from the repository's state tree and
pillar (no daemons, nothing applied). The node's id and interface are set as on the node.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile

import pytest
import salt.config
import site_secrets
from saltfactories.utils.functional import Loaders

from tests.conftest import PRODUCTION_SITE_PILLAR, REPO, load_repo_pillar


class RenderedNode:
    """A node's rendered highstate, with helpers to read what a state would write."""

    def __init__(self, loaders: Loaders, highstate: dict, dry_run: dict | list, cleans: dict | None = None):
        self.loaders = loaders
        self.highstate = highstate
        # highstate test=True mock=True: every state function and requisite resolved, nothing run.
        self.dry_run = dry_run
        # <formula>.clean -> its state.sls test=True mock=True, when asked for.
        self.cleans = cleans or {}

    def state(self, state_id: str) -> dict:
        """The arguments of one state, as a flat dict (plus ``fun``)."""
        chunk = self.highstate[state_id]
        module = next(key for key in chunk if not key.startswith("__"))
        args = {"fun": f"{module}.{next(a for a in chunk[module] if isinstance(a, str))}"}
        for arg in chunk[module]:
            if isinstance(arg, dict):
                args.update(arg)
        return args

    def file_content(self, state_id: str) -> str:
        """What a file.managed state writes: its contents, or its source rendered with its context."""
        args = self.state(state_id)
        if "contents" in args:
            return str(args["contents"])
        source = args["source"]
        assert source.startswith("salt://"), source
        template = (REPO / "salt" / source.removeprefix("salt://")).read_text()
        if args.get("template") != "jinja":
            return template
        return self.loaders.modules.file.apply_template_on_contents(
            template, template="jinja", context=args.get("context", {}), defaults=args.get("defaults"), saltenv="base"
        )


# The site's secrets, generated once for the session as `salt-run site.secrets` would; every
# render goes through the site_secrets ext_pillar, as a minion's pillar does on the master.
SITE_SECRETS = {s.key: site_secrets.new_entry(s) for s in site_secrets.catalog(load_repo_pillar())}

CLEAN_SLS = sorted(f"{path.parent.name}.clean" for path in (REPO / "salt").glob("*/clean.sls"))


def render_node(
    node_id: str, site: str = "production", site_pillar: str | None = None, cleans: bool = False
) -> RenderedNode:
    """
    With the site pillar of ``site``: "production" (PRODUCTION_SITE_PILLAR) or "lab" (what
    lab/lab.py installs on the lab's master, from lab/pillar/site.sls), or ``site_pillar``;
    with ``cleans``, every formula's clean.sls dry-run on the node too.
    """
    node = load_repo_pillar()["platform"]["nodes"][node_id]
    root = tempfile.mkdtemp(prefix="fn-")
    if site_pillar is None:
        site_pillar = (REPO / "lab" / "pillar" / "site.sls").read_text() if site == "lab" else PRODUCTION_SITE_PILLAR
    pathlib.Path(root, "site").mkdir()
    pathlib.Path(root, "site", "site.sls").write_text(site_pillar)
    pillar_roots = [str(REPO / "pillar"), f"{root}/site"]
    opts = salt.config.minion_config(None)
    opts.update(
        {
            "id": node_id,
            "file_client": "local",
            "root_dir": root,
            "cachedir": f"{root}/cache",
            # Not the machine's /var/cache/salt/minion/extmods: a render of another checkout
            # (or a state's saltutil.sync_*) would otherwise load its modules in place of ours.
            "extension_modules": f"{root}/extmods",
            "pki_dir": f"{root}/pki",
            "sock_dir": f"{root}/run",
            "log_file": f"{root}/minion.log",
            "file_roots": {"base": [str(REPO / "salt")]},
            "pillar_roots": {"base": pillar_roots},
            "module_dirs": [str(REPO / "_modules")],
            "pillar_dirs": [str(REPO / "_pillar")],
            "utils_dirs": [str(REPO / "_utils")],
            "ext_pillar": [{"site_secrets": {}}],
            "site_secrets_file": f"{root}/secrets.yaml",
        }
    )
    site_secrets.save(f"{root}/secrets.yaml", SITE_SECRETS)
    try:
        loaders = Loaders(opts)
        # As on the node: its own address on eth0 (keepalived binds VRRP to that interface).
        loaders.grains.update({"id": node_id, "ip4_interfaces": {"lo": ["127.0.0.1"], "eth0": [node["ip"]]}})
        highstate = loaders.modules.state.show_highstate()
        dry_run = loaders.modules.state.highstate(test=True, mock=True)
        cleaned = {}
        for sls in CLEAN_SLS if cleans else []:
            result = loaders.modules.state.sls(sls, test=True, mock=True)
            cleaned[sls] = getattr(result, "raw", result)
        return RenderedNode(loaders, highstate, getattr(dry_run, "raw", dry_run), cleaned)
    finally:
        shutil.rmtree(root, ignore_errors=True)


NODE_IDS = sorted(load_repo_pillar()["platform"]["nodes"])


@pytest.fixture(scope="session")
def rendered() -> dict[str, RenderedNode]:
    """All ten nodes, rendered once for the session."""
    return {node_id: render_node(node_id) for node_id in NODE_IDS}


@pytest.fixture(scope="session")
def rendered_lab() -> dict[str, RenderedNode]:
    """All ten nodes with the lab's site pillar, rendered once for the session."""
    return {node_id: render_node(node_id, site="lab") for node_id in NODE_IDS}
