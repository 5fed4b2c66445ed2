"""The API over TLS: https with httpx and wss with trio-websocket, trusting a CA made for the
test; and a certificate that cannot be used stops the start with the key named."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest
import trustme
from trio_websocket import open_websocket_url

from sor_daemon.config import ConfigError, config_from_dict
from tests.api.conftest import KEYS, headers, new_order, serving, ws_new


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[trustme.CA, Path, Path]:
    """A CA and a server certificate for 127.0.0.1, as PEM files."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "api.pem", tmp_path / "api.key"
    server.private_key_and_cert_chain_pem.write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    return ca, cert, key


async def test_https_and_wss(tmp_path: Path, certificate: tuple[trustme.CA, Path, Path]) -> None:
    ca, cert, key = certificate
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with serving(tmp_path, tls_cert=str(cert), tls_key=str(key)) as api:
        assert api.url.startswith("https://")
        async with httpx.AsyncClient(base_url=api.url, verify=client_context) as http:
            added = await http.post("/v1/sor/add", json=new_order(), headers=headers("desk-1"))
        assert added.status_code == 200, added.text
        assert api.ws_url.startswith("wss://")
        url = f"{api.ws_url}?api_key={KEYS['desk-1']}"
        async with open_websocket_url(url, ssl_context=client_context) as ws:
            await ws.send_message(ws_new())
            assert json.loads(await ws.get_message())["Type"] == "StatusChange"


def test_tls_files_that_cannot_be_used_are_named(
    tmp_path: Path, certificate: tuple[trustme.CA, Path, Path]
) -> None:
    _, cert, key = certificate
    with pytest.raises(ConfigError, match="set both or neither"):
        config_from_dict({"api": {"tls_cert": str(cert)}})
    with pytest.raises(ConfigError, match=r"api.tls_key .*missing.key cannot be read"):
        config_from_dict({"api": {"tls_cert": str(cert), "tls_key": str(tmp_path / "missing.key")}})
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        config_from_dict({"api": {"tls_cert": str(key), "tls_key": str(key)}})
