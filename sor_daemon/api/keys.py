"""API keys: who may call the API, and as what.

A key is stored only as the SHA-256 of its text (hex), with a name and a role, in the config's
``[[api.keys]]`` tables or in a key file of the same shape (``[[keys]]``). A presented key is
hashed and compared with every stored digest in constant time, so neither the stored table nor
the time an answer takes gives the key away. Keys are high-entropy random strings
(``sor-daemon hash-key`` makes one), which is why a plain hash, not a password KDF, is enough.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import tomllib
from collections.abc import Iterable
from pathlib import Path

import attrs
import cattrs

_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class KeyConfigError(ValueError):
    """A key table or key file cannot be used; the message says which key and why."""


class Role(enum.IntEnum):
    """What a key may do; each role may do everything the roles below it may."""

    VIEWER = 1
    TRADER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        """The role as written in the config: ``viewer``, ``trader`` or ``admin``."""
        return self.name.lower()


@attrs.frozen
class ApiKey:
    """One key as configured: its name (the origin of the orders it submits), its role and the
    SHA-256 of its text as 64 lowercase hex digits."""

    name: str
    role: str
    sha256: str

    def check(self, where: str) -> None:
        """Raise KeyConfigError naming ``where`` if a field cannot be used."""
        if not self.name.strip():
            raise KeyConfigError(f"{where}: name must not be empty")
        if self.role not in {role.label for role in Role}:
            raise KeyConfigError(
                f"{where} ({self.name}): role {self.role!r} is not viewer, trader or admin"
            )
        if not _HEX_DIGEST.fullmatch(self.sha256):
            raise KeyConfigError(
                f"{where} ({self.name}): sha256 must be 64 lowercase hex digits "
                "(make one with `sor-daemon hash-key`)"
            )


@attrs.frozen
class Principal:
    """Who is calling: the key's name and role. Without keys configured everyone is the admin
    ``api`` (the origin orders had before there were keys)."""

    name: str
    role: Role


OPEN_PRINCIPAL = Principal(name="api", role=Role.ADMIN)


def hash_key(key: str) -> str:
    """The SHA-256 of ``key`` as stored in the config: 64 lowercase hex digits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe, so it fits a header and a query string)."""
    return secrets.token_urlsafe(32)


def key_entry(name: str, role: str, key: str) -> str:
    """The ``[[api.keys]]`` table that lets ``key`` in as ``name`` with ``role``."""
    return f'[[api.keys]]\nname = "{name}"\nrole = "{role}"\nsha256 = "{hash_key(key)}"\n'


def check_keys(keys: Iterable[ApiKey], where: str) -> tuple[ApiKey, ...]:
    """The keys, each checked; names and digests must be unique."""
    checked = tuple(keys)
    names: set[str] = set()
    digests: set[str] = set()
    for number, key in enumerate(checked, start=1):
        key.check(f"{where} #{number}")
        if key.name in names:
            raise KeyConfigError(f"{where}: the name {key.name!r} is used by two keys")
        if key.sha256 in digests:
            raise KeyConfigError(f"{where}: {key.name!r} has the same sha256 as another key")
        names.add(key.name)
        digests.add(key.sha256)
    return checked


_converter = cattrs.Converter(forbid_extra_keys=True)


def read_key_file(path: Path) -> tuple[ApiKey, ...]:
    """The keys in a TOML key file (``[[keys]]`` tables of name, role and sha256)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KeyConfigError(f"api.key_file {path} cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise KeyConfigError(f"api.key_file {path} is not valid TOML: {error}") from None
    unknown = set(document) - {"keys"}
    if unknown:
        raise KeyConfigError(f"api.key_file {path}: unknown keys {', '.join(sorted(unknown))}")
    try:
        keys = _converter.structure(document.get("keys", []), list[ApiKey])
    except cattrs.BaseValidationError as error:
        problems = "; ".join(cattrs.transform_error(error, path="keys"))
        raise KeyConfigError(f"api.key_file {path}: {problems}") from None
    return check_keys(keys, f"api.key_file {path}: keys")


class KeyTable:
    """The keys the API accepts now; ``replace`` swaps them all at once (a reload).

    With no keys and ``required`` false the API is open and everyone is ``OPEN_PRINCIPAL``; with
    ``required`` (keys configured, even a key file that is empty today) nobody gets in without a
    key in the table.
    """

    def __init__(self, keys: Iterable[ApiKey] = (), *, required: bool | None = None) -> None:
        self._keys: tuple[ApiKey, ...] = ()
        self.required = False
        self.replace(keys, required=required)

    def replace(self, keys: Iterable[ApiKey], *, required: bool | None = None) -> None:
        """Accept exactly ``keys`` from now on; ``required`` defaults to "any key given"."""
        self._keys = check_keys(keys, "api.keys")
        self.required = bool(self._keys) if required is None else required

    @property
    def open(self) -> bool:
        """True when the API runs without keys (everyone is admin)."""
        return not self.required

    @property
    def keys(self) -> tuple[ApiKey, ...]:
        """The keys accepted now."""
        return self._keys

    def authenticate(self, presented: str) -> Principal | None:
        """The principal a presented key stands for, or None; every stored digest is compared,
        in constant time, whatever matches."""
        digest = hash_key(presented).encode("ascii")
        found = None
        for key in self._keys:
            if hmac.compare_digest(digest, key.sha256.encode("ascii")):
                found = key
        if found is None:
            return None
        return Principal(name=found.name, role=Role[found.role.upper()])
