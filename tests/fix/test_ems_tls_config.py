"""The [ems], [simulator] and [order_entry] TLS keys are checked on load, with errors naming
the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from sor_daemon.config import ConfigError, config_from_dict
from sor_daemon.fix.settings import CERTIFICATE_REQUIRED, TLS_PROTOCOLS
from sor_daemon.sim.settings import SimulatorConfigError, SimulatorSettings


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    ca = trustme.CA()
    issued = ca.issue_cert("oms-client.example")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    issued.cert_chain_pems[0].write_to_path(str(tmp_path / "client.pem"))
    issued.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    return {
        name: str(tmp_path / f"{name}.{ext}")
        for name, ext in (("ca", "pem"), ("client", "pem"), ("junk", "pem"))
    } | {"key": str(tmp_path / "client.key"), "missing": str(tmp_path / "missing.pem")}


def ems(**keys: object) -> dict[str, object]:
    return {"ems": {"mode": "remote", **keys}}


def test_tls_with_a_ca_and_a_client_key_pair_loads(files: dict[str, str]) -> None:
    config = config_from_dict(
        ems(tls=True, tls_ca=files["ca"], tls_cert=files["client"], tls_key=files["key"])
    )
    assert config.ems.tls and config.ems.tls_ca == Path(files["ca"])


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"tls": True}, "ems.tls_ca"),
        ({"tls": True, "tls_ca": "missing"}, "ems.tls_ca"),
        ({"tls": True, "tls_ca": "junk"}, "ems.tls_ca"),
        ({"tls": True, "tls_ca": "ca", "tls_cert": "client"}, "ems.tls_key"),
        ({"tls": True, "tls_ca": "ca", "tls_cert": "missing", "tls_key": "key"}, "ems.tls_cert"),
        ({"tls": True, "tls_ca": "ca", "tls_cert": "ca", "tls_key": "key"}, "ems.tls_key"),
        ({"tls_ca": "ca"}, "ems.tls"),
    ],
)
def test_unusable_tls_settings_are_refused_naming_the_key(
    files: dict[str, str], keys: dict[str, object], named: str
) -> None:
    resolved = {k: files.get(v, v) if isinstance(v, str) else v for k, v in keys.items()}
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        config_from_dict(ems(**resolved))


def test_simulator_tls_files_go_together(files: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"simulator\.tls_client_ca"):
        config_from_dict({"simulator": {"tls_cert": files["client"], "tls_key": files["key"]}})
    with pytest.raises(SimulatorConfigError, match="tls_client_ca"):
        SimulatorSettings(data_dir=tmp_path, tls_cert=Path(files["client"]))


def order_entry(**keys: object) -> dict[str, object]:
    return {
        "order_entry": {
            "port": 9878,
            "sessions": [{"sender_comp_id": "SOR", "target_comp_id": "DESK1"}],
            **keys,
        }
    }


def test_order_entry_tls_loads_and_becomes_ssl_acceptor_settings(files: dict[str, str]) -> None:
    config = config_from_dict(
        order_entry(tls=True, tls_cert=files["client"], tls_key=files["key"], tls_ca=files["ca"])
    )
    assert config.order_entry.tls_settings() == {
        "SSLProtocol": TLS_PROTOCOLS,
        "ServerCertificateFile": Path(files["client"]),
        "ServerCertificateKeyFile": Path(files["key"]),
        "CertificationAuthoritiesFile": Path(files["ca"]),
        "CertificateVerifyLevel": CERTIFICATE_REQUIRED,
    }
    without_ca = config_from_dict(
        order_entry(tls=True, tls_cert=files["client"], tls_key=files["key"])
    )
    assert "CertificateVerifyLevel" not in without_ca.order_entry.tls_settings()
    assert config_from_dict(order_entry()).order_entry.tls_settings() == {}


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"tls": True}, "order_entry.tls_cert"),
        ({"tls": True, "tls_cert": "client"}, "order_entry.tls_key"),
        ({"tls": True, "tls_cert": "missing", "tls_key": "key"}, "order_entry.tls_cert"),
        (
            {"tls": True, "tls_cert": "client", "tls_key": "key", "tls_ca": "junk"},
            "order_entry.tls_ca",
        ),
        ({"tls": True, "tls_cert": "ca", "tls_key": "key"}, "order_entry.tls_key"),
        ({"tls_cert": "client", "tls_key": "key"}, "order_entry.tls is false"),
    ],
)
def test_unusable_order_entry_tls_settings_are_refused_naming_the_key(
    files: dict[str, str], keys: dict[str, object], named: str
) -> None:
    resolved = {k: files.get(v, v) if isinstance(v, str) else v for k, v in keys.items()}
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        config_from_dict(order_entry(**resolved))
