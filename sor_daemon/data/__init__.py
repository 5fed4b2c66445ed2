"""Data files shipped inside the package (the default instrument table)."""

from importlib import resources


def read_text(name: str) -> str:
    """The text of a data file shipped in ``sor_daemon/data``."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
