"""Keys in the config and in a key file, their reload, ``sor-daemon hash-key``, and the refusal
to serve an open API beyond loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sor_daemon.api.keys import hash_key
from sor_daemon.cli import main
from sor_daemon.config import ConfigError, config_from_dict
from sor_daemon.service import reload_api_keys
from sor_daemon.sim.service import free_port
from tests.api.conftest import headers, serving


def test_an_open_api_beyond_loopback_is_refused_at_start(tmp_path: Path) -> None:
    port = free_port("127.0.0.1")
    result = subprocess.run(
        [sys.executable, "-m", "sor_daemon.cli", "run", "--listen", f"0.0.0.0:{port}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "can be reached from other machines, and no API keys are configured" in result.stderr


@pytest.mark.parametrize(
    ("api", "complaint"),
    [
        ({"keys": [{"name": "a", "role": "boss", "sha256": "0" * 64}]}, "role 'boss'"),
        ({"keys": [{"name": "a", "role": "admin", "sha256": "secret"}]}, "64 lowercase hex"),
        ({"keys": [{"name": "a", "role": "admin", "sha256": "0" * 64}] * 2}, "used by two"),
        ({"max_connections": 0}, "api.max_connections must be at least 1"),
        ({"max_body_bytes": 0}, "api.max_body_bytes"),
        ({"key_file": "/no/such/keys.toml"}, "api.key_file /no/such/keys.toml cannot be read"),
    ],
)
def test_bad_keys_and_limits_are_named(api: dict, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        config_from_dict({"api": api})


def test_hash_key_prints_a_table_that_lets_the_key_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-key", "--name", "desk-9", "--role", "viewer"]) == 0
    out = capsys.readouterr().out
    key = out.splitlines()[0].rpartition(" ")[2]
    assert f'sha256 = "{hash_key(key)}"' in out
    assert 'name = "desk-9"\nrole = "viewer"' in out


async def test_keys_from_a_key_file_are_reloaded(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.toml"
    table = '[[keys]]\nname = "{name}"\nrole = "trader"\nsha256 = "{digest}"\n'
    key_file.write_text(table.format(name="desk-1", digest=hash_key("desk-1-key")))
    api = {"keys": [], "key_file": str(key_file), "listen": "0.0.0.0:0"}
    async with serving(tmp_path, **api) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/v1/sor/requests", headers=headers("desk-1"))).status_code == 200
        assert (await http.get("/v1/sor/requests", headers=headers("desk-2"))).status_code == 401

        key_file.write_text(table.format(name="desk-2", digest=hash_key("desk-2-key")))
        change = reload_api_keys(server.keys, config_from_dict({"api": api}))
        assert change == "api keys: 1 accepted"
        assert (await http.get("/v1/sor/requests", headers=headers("desk-1"))).status_code == 401
        assert (await http.get("/v1/sor/requests", headers=headers("desk-2"))).status_code == 200

        key_file.write_text("")  # an empty key file lets nobody in; it does not open the API
        reload_api_keys(server.keys, config_from_dict({"api": api}))
        assert (await http.get("/v1/sor/requests", headers=headers("desk-2"))).status_code == 401
