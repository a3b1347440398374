"""
Each node's highstate, rendered by Salt's own loaders from the repository's state tree and
pillar (no daemons, nothing applied). The node's id and interface are set as on the node.
"""

from __future__ import annotations

import atexit
import pathlib
import shutil
import tempfile
from unittest import mock

import pytest
import salt.config
import site_secrets
from saltfactories.utils.functional import Loaders

from tests.conftest import PRODUCTION_SITE_PILLAR, REPO, load_repo_pillar


class RenderedNode:
    """A node's rendered highstate, with helpers to read what a state would write."""

    def __init__(
        self, loaders: Loaders, pillar: dict, highstate: dict, dry_run: dict | list, cleans: dict | None = None
    ):
        # The session's loaders, shared by every render: they hold the last node rendered.
        self.loaders = loaders
        # The node's pillar, secrets unmasked.
        self.pillar = pillar
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


class _Renderer:
    """
    One set of Salt loaders for every render of the session. Building the loaders (every
    module's ``__virtual__``, a sync of the custom modules) cost most of a render when each
    render made its own; between renders only the node's id, grains and site pillar change.
    The state tree's custom modules load from the repository's directories, so nothing is
    synced into ``extension_modules``.
    """

    def __init__(self):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="fn-"))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        (self.root / "site").mkdir()
        opts = salt.config.minion_config(None)
        opts.update(
            {
                "id": "render",
                "file_client": "local",
                "root_dir": str(self.root),
                "cachedir": f"{self.root}/cache",
                # Not the machine's /var/cache/salt/minion/extmods: a render of another checkout
                # (or a state's saltutil.sync_*) would otherwise load its modules in place of ours.
                "extension_modules": f"{self.root}/extmods",
                "autoload_dynamic_modules": False,
                "pki_dir": f"{self.root}/pki",
                "sock_dir": f"{self.root}/run",
                "log_file": f"{self.root}/minion.log",
                "file_roots": {"base": [str(REPO / "salt")]},
                "pillar_roots": {"base": [str(REPO / "pillar"), f"{self.root}/site"]},
                "module_dirs": [str(REPO / "_modules")],
                "states_dirs": [str(REPO / "salt" / "_states")],
                "pillar_dirs": [str(REPO / "_pillar")],
                "utils_dirs": [str(REPO / "_utils")],
                "ext_pillar": [{"site_secrets": {}}],
                "site_secrets_file": f"{self.root}/secrets.yaml",
            }
        )
        site_secrets.save(f"{self.root}/secrets.yaml", SITE_SECRETS)
        (self.root / "site" / "site.sls").write_text(PRODUCTION_SITE_PILLAR)
        # saltfactories syncs every custom module type into extension_modules here; ours load
        # from the directories above instead.
        with mock.patch("salt.utils.extmods.sync", return_value=([], False)):
            self.loaders = Loaders(opts)

    def render(self, node_id: str, site_pillar: str, cleans: bool) -> RenderedNode:
        node = load_repo_pillar()["platform"]["nodes"][node_id]
        (self.root / "site" / "site.sls").write_text(site_pillar)
        # reload_all starts again from the options the loaders were made with (a copy, which
        # is why the id is set there) and loads the grains and pillar of that id.
        self.loaders._original_opts["id"] = node_id  # noqa: SLF001
        self.loaders.reload_all()
        # As on the node: its own address on eth0 (keepalived binds VRRP to that interface).
        self.loaders.grains.update({"id": node_id, "ip4_interfaces": {"lo": ["127.0.0.1"], "eth0": [node["ip"]]}})
        state = self.loaders.modules.state
        highstate = state.show_highstate()
        dry_run = state.highstate(test=True, mock=True)
        cleaned = {}
        for sls in CLEAN_SLS if cleans else []:
            result = state.sls(sls, test=True, mock=True)
            cleaned[sls] = getattr(result, "raw", result)
        pillar = self.loaders.modules.pillar.items(unmask=True)
        return RenderedNode(self.loaders, pillar, highstate, getattr(dry_run, "raw", dry_run), cleaned)


_RENDERER: _Renderer | None = None


def render_node(
    node_id: str, site: str = "production", site_pillar: str | None = None, cleans: bool = False
) -> RenderedNode:
    """
    With the site pillar of ``site``: "production" (PRODUCTION_SITE_PILLAR) or "lab" (what
    lab/lab.py installs on the lab's master, from lab/pillar/site.sls), or ``site_pillar``;
    with ``cleans``, every formula's clean.sls dry-run on the node too.
    """
    global _RENDERER  # noqa: PLW0603 - built on first use, shared by every render of the session
    if site_pillar is None:
        site_pillar = (REPO / "lab" / "pillar" / "site.sls").read_text() if site == "lab" else PRODUCTION_SITE_PILLAR
    if _RENDERER is None:
        _RENDERER = _Renderer()
    return _RENDERER.render(node_id, site_pillar, cleans)


NODE_IDS = sorted(load_repo_pillar()["platform"]["nodes"])


@pytest.fixture(scope="session")
def rendered() -> dict[str, RenderedNode]:
    """All ten nodes, rendered once for the session."""
    return {node_id: render_node(node_id) for node_id in NODE_IDS}


@pytest.fixture(scope="session")
def rendered_lab() -> dict[str, RenderedNode]:
    """All ten nodes with the lab's site pillar, rendered once for the session."""
    return {node_id: render_node(node_id, site="lab") for node_id in NODE_IDS}
