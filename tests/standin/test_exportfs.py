"""The lab's exportfs reads /etc/exports as exports(5) says and serves it with NFS-Ganesha's equivalents."""

from __future__ import annotations

import re

import pytest
from standin import exportfs


def client_block(config: str, spec: str) -> str:
    return re.search(r"CLIENT \{\s*Clients = " + re.escape(spec) + r";(.*?)\}", config, re.S).group(1)


def test_the_formulas_export_is_read_write_for_the_network_and_root_squashed():
    exports = exportfs.parse("# comment\n/data 192.168.33.0/24(rw,sync,no_subtree_check,root_squash)\n")
    config = exportfs.ganesha_config(exports)
    export = re.search(r"^EXPORT \{(.*)^\}", config, re.M | re.S).group(1)
    assert 'Path = "/data";' in export and 'Pseudo = "/data";' in export
    # Nobody else: the export itself grants nothing, its one client block grants read-write.
    assert "Access_Type = None;" in export.split("CLIENT")[0]
    client = client_block(config, "192.168.33.0/24")
    for line in ("Access_Type = RW;", "Squash = Root_Squash;", "Anonymous_Uid = 65534;", "PrivilegedPort = true;"):
        assert line in client
    assert re.search(r"NFS_CORE_PARAM \{[^}]*Protocols = 4;", config)


def test_defaults_options_and_continuations_follow_exports5():
    text = '"/srv/with space" host1 \\\n  host2(rw,no_root_squash,insecure,anonuid=1000,anongid=1001)\n'
    (export,) = exportfs.parse(text)
    assert export.path == "/srv/with space"
    first, second = export.clients
    # A client without options is read-only and root squashed, exportfs' defaults.
    assert (first.spec, first.access, first.squash) == ("host1", "RO", "Root_Squash")
    assert (second.access, second.squash, second.privileged_port) == ("RW", "No_Root_Squash", False)
    assert (second.anonuid, second.anongid) == (1000, 1001)
    assert "Squash = No_Root_Squash;" in client_block(exportfs.ganesha_config([export]), "host2")
    # root_squash and all_squash are separate switches: turning one off leaves the other.
    (squashed,) = exportfs.parse("/data h(rw,root_squash,no_all_squash)\n")[0].clients
    assert squashed.squash == "Root_Squash"
    assert exportfs.parse("/data h(all_squash)\n")[0].clients[0].squash == "All_Squash"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/data 10.0.0.0/8(rw,bogus)\n", 'exports:1: unknown keyword "bogus"'),
        ("\n\ndata 10.0.0.0/8(rw)\n", 'exports:3: the export path "data" is not absolute'),
        ("/data\n", "exports:1: /data names no client"),
        ("/data 10.0.0.0/8(rw,anonuid=x)\n", 'exports:1: bad anonuid "x"'),
        ("/data (rw)\n", 'exports:1: syntax error in "(rw)"'),
    ],
)
def test_what_exportfs_refuses_is_refused_with_the_line(text, message):
    with pytest.raises(exportfs.ExportsError, match=re.escape(message)):
        exportfs.parse(text, "/etc/exports")


def test_a_refused_exports_file_changes_nothing(tmp_path, monkeypatch, capsys):
    config = tmp_path / "ganesha.conf"
    config.write_text("before\n")
    exports = tmp_path / "exports"
    exports.write_text("/data 10.0.0.0/8(rw,bogus)\n")
    monkeypatch.setattr(exportfs, "EXPORTS", exports)
    monkeypatch.setattr(exportfs, "GANESHA_CONFIG", config)
    assert exportfs.main(["-ra"]) == 1
    assert config.read_text() == "before\n"
    assert 'unknown keyword "bogus"' in capsys.readouterr().err


def test_reexport_writes_the_config_and_reloads_a_running_server_only_on_change(tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    exports.write_text("/data 10.0.0.0/8(rw)\n")
    config = tmp_path / "ganesha.conf"
    signals = []
    monkeypatch.setattr(exportfs, "EXPORTS", exports)
    monkeypatch.setattr(exportfs, "GANESHA_CONFIG", config)
    monkeypatch.setattr(exportfs, "_ganesha_pid", lambda: 4242)
    monkeypatch.setattr(exportfs.os, "kill", lambda pid, signum: signals.append((pid, signum)))
    assert exportfs.main(["-ra"]) == 0
    assert 'Path = "/data";' in config.read_text()
    assert exportfs.main(["-ra"]) == 0
    assert signals == [(4242, exportfs.signal.SIGHUP)]
    assert exportfs.main(["-au"]) == 0
    assert "EXPORT {" not in config.read_text() and len(signals) == 2
