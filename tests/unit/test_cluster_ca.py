"""The cluster CA is trusted by the key the master pinned, not by whatever the mine holds."""

from __future__ import annotations

import datetime
import importlib.util
import pathlib
import subprocess

import cluster_ca
import pytest
import site_secrets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from salt.exceptions import CommandExecutionError

_SPEC = importlib.util.spec_from_file_location(
    "site_runner_ca", pathlib.Path(__file__).resolve().parents[2] / "_runners" / "site.py"
)
site_runner = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(site_runner)


def make_ca(key: rsa.RSAPrivateKey, days: int = 3650) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Platform Cluster CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def keys():
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]


def test_the_pin_is_what_openssl_prints_and_survives_a_renewal_with_the_same_key(keys, tmp_path):
    pem = make_ca(keys[0])
    (tmp_path / "ca.crt").write_text(pem)
    openssl = subprocess.run(
        f"openssl x509 -pubkey -noout -in {tmp_path / 'ca.crt'} | openssl pkey -pubin -outform der | sha256sum",
        shell=True, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert cluster_ca.key_pin(pem) == openssl.stdout.split()[0]
    assert cluster_ca.key_pin(make_ca(keys[0], days=7300)) == cluster_ca.key_pin(pem)  # renewed: same key
    assert cluster_ca.key_pin(make_ca(keys[1])) != cluster_ca.key_pin(pem)
    with pytest.raises(CommandExecutionError, match="not a PEM certificate"):
        cluster_ca.key_pin("-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")


def _node(monkeypatch, published: str, pin: str) -> None:
    mine = {"registry": published} if published else {}

    def mine_get(tgt, fun, tgt_type):
        return mine if (tgt, fun, tgt_type) == ("registry", "platform_ca_pem", "list") else {}

    monkeypatch.setattr(
        cluster_ca,
        "__salt__",
        {
            "topology.ca_node": lambda: "registry",
            "topology.settings": lambda name: {"mine_key": "platform_ca_pem"},
            "mine.get": mine_get,
        },
        raising=False,
    )
    monkeypatch.setattr(cluster_ca, "__pillar__", {"ca": {"key_pin": pin}} if pin else {}, raising=False)


def test_a_node_trusts_the_published_ca_only_with_the_pinned_key(keys, monkeypatch):
    pem = make_ca(keys[0])
    _node(monkeypatch, pem, cluster_ca.key_pin(pem))
    assert cluster_ca.trusted() == pem
    _node(monkeypatch, pem, "")  # not pinned yet: nothing trusted
    assert cluster_ca.trusted() == ""
    _node(monkeypatch, "", cluster_ca.key_pin(pem))  # not published yet
    assert cluster_ca.trusted() == ""
    other = make_ca(keys[1])
    _node(monkeypatch, other, cluster_ca.key_pin(pem))
    with pytest.raises(CommandExecutionError) as refused:
        cluster_ca.trusted()
    assert f"has key sha256:{cluster_ca.key_pin(other)}, not the pinned sha256:{cluster_ca.key_pin(pem)}" in str(
        refused.value
    )
    assert "salt-run site.pin_ca replace=True" in str(refused.value)


def test_every_node_receives_the_pin_and_only_the_pin_beside_its_secrets(repo_pillar):
    store = {s.key: site_secrets.new_entry(s) for s in site_secrets.catalog(repo_pillar)}
    for node in repo_pillar["platform"]["nodes"]:
        assert site_secrets.for_node(node, repo_pillar, store, {"ca": "ab12"})["ca"] == {"key_pin": "ab12"}
    assert "ca" not in site_secrets.for_node("lb1", repo_pillar, store, {})


@pytest.fixture
def pinning(tmp_path, monkeypatch, runner_utils, keys, repo_pillar):
    """site.pin_ca with the CA node's mine entry set by the test (``published[0]``)."""
    path = tmp_path / "secrets.yaml"
    store = {s.key: site_secrets.new_entry(s) for s in site_secrets.catalog(repo_pillar)}
    site_secrets.save(str(path), store)
    published = [make_ca(keys[0])]
    modules = {
        "topology.ca_node": lambda platform: "registry",
        "topology.settings": lambda name, pillar: {"mine_key": "platform_ca_pem"},
        "cluster_ca.key_pin": cluster_ca.key_pin,
    }
    monkeypatch.setattr(site_runner, "__opts__", {"site_secrets_file": str(path)}, raising=False)
    monkeypatch.setattr(site_runner, "__utils__", runner_utils, raising=False)
    monkeypatch.setattr(site_runner, "__context__", {"platform_runner.modules": modules}, raising=False)
    monkeypatch.setattr(
        site_runner,
        "__salt__",
        {
            "pillar.show_pillar": lambda: repo_pillar,
            "mine.get": lambda tgt, fun, tgt_type: {"registry": published[0]},
        },
        raising=False,
    )
    return path, store, published


def test_the_first_pin_is_recorded_then_kept_and_a_new_key_is_refused_unless_replaced(pinning, keys):
    path, store, published = pinning
    first = site_runner.pin_ca()
    assert first["retcode"] == 0 and first["comment"].startswith("pinned the cluster CA of registry")
    pin = cluster_ca.key_pin(published[0])
    assert site_secrets.load_pins(str(path)) == {"ca": pin}
    assert site_secrets.load(str(path)) == store  # the secrets are untouched
    assert site_runner.pin_ca()["comment"] == f"the cluster CA of registry is pinned (key sha256:{pin})"
    # Saving the secrets (site.secrets) keeps the pin.
    site_secrets.save(str(path), store)
    assert site_secrets.load_pins(str(path)) == {"ca": pin}

    published[0] = make_ca(keys[1])
    refused = site_runner.pin_ca()
    assert refused["retcode"] == 1
    assert "nothing was changed and no node trusts it" in refused["comment"]
    assert site_secrets.load_pins(str(path)) == {"ca": pin}
    replaced = site_runner.pin_ca(replace=True)
    assert replaced["retcode"] == 0
    assert site_secrets.load_pins(str(path)) == {"ca": cluster_ca.key_pin(published[0])}


def test_nothing_published_yet_is_refused_with_the_fix(pinning):
    path, _, published = pinning
    published[0] = ""
    result = site_runner.pin_ca()
    assert result["retcode"] == 1
    assert result["comment"] == "no CA certificate in the mine of registry yet: run `salt-run cluster.up`"
    assert site_secrets.load_pins(str(path)) == {}
