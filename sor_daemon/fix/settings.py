"""quickfix session settings, written as a settings file in the session's data directory.

quickfix reads its settings from a file; writing one per session under the data directory also
leaves an operator a record of exactly what the session ran with.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import quickfix as fix

SETTINGS_FILE = "session.cfg"
"""The name of a session's settings file in its data directory."""


def write_settings(
    directory: Path, defaults: Mapping[str, object], sessions: list[Mapping[str, object]]
) -> fix.SessionSettings:
    """Write ``SETTINGS_FILE`` with a [DEFAULT] block and one [SESSION] block each; load it.

    Only its owner may read the file: a comp id can be an API key (CoinAPI's market-data
    session logs on with the key as its SenderCompID).
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[DEFAULT]", *_entries(defaults)]
    for session in sessions:
        lines += ["", "[SESSION]", *_entries(session)]
    path = directory / SETTINGS_FILE
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return fix.SessionSettings(str(path))


def _entries(values: Mapping[str, object]) -> list[str]:
    return [f"{key}={_text(value)}" for key, value in values.items()]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)


def common_defaults(
    directory: Path, dictionary: Path, *, reset_on_logon: bool, persist_messages: bool = True
) -> dict[str, object]:
    """Settings every session of ours shares: stores, logs, dictionary, an always-open window.

    Without ``persist_messages`` nothing sent is kept for resending: quickfix answers a
    ResendRequest with a gap fill.
    """
    return {
        "FileStorePath": directory / "store",
        "FileLogPath": directory / "log",
        "StartTime": "00:00:00",
        "EndTime": "00:00:00",
        "UseDataDictionary": True,
        "DataDictionary": dictionary,
        "ResetOnLogon": reset_on_logon,
        "ResetOnLogout": reset_on_logon,
        "ResetOnDisconnect": reset_on_logon,
        "PersistMessages": persist_messages,
    }


def initiator_settings(
    directory: Path,
    dictionary: Path,
    *,
    host: str,
    port: int,
    sender_comp_id: str,
    target_comp_id: str,
    heartbeat_seconds: int,
    reconnect_seconds: int,
    reset_on_logon: bool,
    persist_messages: bool = True,
    tls: Mapping[str, object] | None = None,
) -> fix.SessionSettings:
    """Settings for one FIX 4.4 initiator session; ``tls`` (see ``tls_client_settings``) goes
    into [DEFAULT], the only place quickfix 1.16 reads its SSL settings from."""
    defaults = common_defaults(
        directory, dictionary, reset_on_logon=reset_on_logon, persist_messages=persist_messages
    )
    defaults |= {"ConnectionType": "initiator", "ReconnectInterval": reconnect_seconds}
    defaults |= tls or {}
    session = {
        "BeginString": "FIX.4.4",
        "SenderCompID": sender_comp_id,
        "TargetCompID": target_comp_id,
        "SocketConnectHost": host,
        "SocketConnectPort": port,
        "HeartBtInt": heartbeat_seconds,
    }
    return write_settings(directory, defaults, [session])


TLS_PROTOCOLS = "TLSv1_2 +TLSv1_3"
"""quickfix's ``SSLProtocol`` syntax for "TLS 1.2 or 1.3 only" (its default also allows 1.0)."""


def tls_client_settings(
    ca_file: Path, cert_file: Path | None, key_file: Path | None
) -> dict[str, object]:
    """The [DEFAULT] settings of an ``SSLSocketInitiator`` that verifies the server and, when
    given one, presents a client certificate.

    With ``CertificationAuthoritiesFile`` set, quickfix 1.16 verifies the server's chain
    against that file and the system's default CAs (``SSL_CTX_set_default_verify_paths``);
    without it, it verifies nothing, so it is always set. It does not check the host name in
    the certificate (it sends it as SNI). The private key must not be encrypted: the Python
    binding has no way to pass its password.
    """
    settings: dict[str, object] = {
        "SSLProtocol": TLS_PROTOCOLS,
        "CertificationAuthoritiesFile": ca_file,
    }
    if cert_file is not None and key_file is not None:
        settings |= {"ClientCertificateFile": cert_file, "ClientCertificateKeyFile": key_file}
    return settings


CERTIFICATE_REQUIRED = 1
"""quickfix's ``CertificateVerifyLevel`` for "a client must present a valid certificate"."""


def tls_acceptor_settings(
    cert_file: Path, key_file: Path, client_ca: Path | None
) -> dict[str, object]:
    """The [DEFAULT] settings of an ``SSLSocketAcceptor`` that presents ``cert_file`` and, with
    ``client_ca``, accepts only clients whose certificate chains to it.

    quickfix 1.16 reads SSL settings from [DEFAULT] only. ``CertificateVerifyLevel`` 1 makes a
    missing or untrusted client certificate fail the handshake, before any Logon is read.
    Without ``client_ca`` no client certificate is asked for. The key must not be encrypted.
    """
    settings: dict[str, object] = {
        "SSLProtocol": TLS_PROTOCOLS,
        "ServerCertificateFile": cert_file,
        "ServerCertificateKeyFile": key_file,
    }
    if client_ca is not None:
        settings |= {
            "CertificationAuthoritiesFile": client_ca,
            "CertificateVerifyLevel": CERTIFICATE_REQUIRED,
        }
    return settings
