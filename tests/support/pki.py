"""Certificates for TLS tests, made with trustme: one CA issues a server certificate (for
127.0.0.1 and localhost) and a client certificate; another CA, trusted by nobody, issues a
client certificate a server must refuse."""

from __future__ import annotations

from pathlib import Path

import attrs
import trustme


@attrs.frozen
class Pki:
    """PEM files: the CA both ends trust, the server's and the client's key pairs, and a
    client key pair from a CA nobody trusts."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path


def make_pki(directory: Path, client_name: str = "oms-client.example") -> Pki:
    """Issue the certificates and write them into ``directory``."""
    ca, other_ca = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert(client_name)
    stranger = other_ca.issue_cert(client_name)
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    for name, issued in (("server", server), ("client", client), ("stranger", stranger)):
        issued.cert_chain_pems[0].write_to_path(str(directory / f"{name}.pem"))
        issued.private_key_pem.write_to_path(str(directory / f"{name}.key"))
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        stranger_cert=directory / "stranger.pem",
        stranger_key=directory / "stranger.key",
    )
