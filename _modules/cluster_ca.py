"""
The cluster CA as a node trusts it: the certificate the CA node publishes in the mine
(``topology.ca_node``, never another minion's entry), accepted only with the key the master
pinned (pillar ``ca:key_pin``: SHA-256 of the certificate's public key, DER
SubjectPublicKeyInfo). A renewal keeps the key, so the pin holds; a CA made again with a new
key (the CA node rebuilt, or its mine entry replaced) is refused until an operator checks it
and pins it on purpose (``salt-run site.pin_ca replace=True``).
"""

from __future__ import annotations

import hashlib

from salt.exceptions import CommandExecutionError


def key_pin(pem: str) -> str:
    """
    SHA-256 (hex) of a certificate's public key, as ``openssl x509 -pubkey -noout | openssl
    pkey -pubin -outform der | sha256sum`` prints it.

    CLI Example:

    .. code-block:: bash

        salt-call cluster_ca.key_pin "$(cat /etc/pki/platform-ca/ca.crt)"
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise CommandExecutionError(f"not a PEM certificate: {exc}") from exc
    der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def published() -> str:
    """
    The CA certificate (PEM) in the CA node's mine entry, unchecked; empty before the CA node's
    first highstate.

    CLI Example:

    .. code-block:: bash

        salt-call cluster_ca.published
    """
    node = __salt__["topology.ca_node"]()
    if not node:
        return ""
    mine_key = __salt__["topology.settings"]("ca")["mine_key"]
    return __salt__["mine.get"](node, mine_key, tgt_type="list").get(node) or ""


def trusted() -> str:
    """
    The CA certificate this node may trust: the published one when its key is the pinned one;
    empty while it is not published or not pinned yet (``cluster.up`` pins it after the CA
    node's step). A published CA with another key is refused, naming both keys.

    CLI Example:

    .. code-block:: bash

        salt-call cluster_ca.trusted
    """
    pem = published()
    # __pillar__, not pillar.get: Salt 3008 masks what pillar.get returns outside a template.
    pin = (__pillar__.get("ca") or {}).get("key_pin", "")
    if not pem or not pin:
        return ""
    found = key_pin(pem)
    if found != pin:
        raise CommandExecutionError(
            f"the CA certificate {__salt__['topology.ca_node']()} publishes has key sha256:{found}, "
            f"not the pinned sha256:{pin} (pillar ca:key_pin); nothing trusts it. If the CA was "
            "made again on purpose, check that key on the CA node, then `salt-run site.pin_ca replace=True`"
        )
    return pem
