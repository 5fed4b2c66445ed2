"""The FIX 4.4 data dictionary of CoinAPI's EMS dialect, derived from quickfix's own FIX44.xml.

CoinAPI's dictionary is standard FIX 4.4 with two differences: SecurityIDSource (22) has the
custom value ``101`` (a CoinAPI symbol id), and AvgPx (6) is optional in an ExecutionReport. We
do not ship a copy of the standard dictionary: at start we read the one the quickfix package
installs (under ``<sys.prefix>/share/quickfix/``), apply the differences, and write the result
into the daemon's data directory, where both FIX ends load it.
"""

from __future__ import annotations

import sysconfig
import xml.etree.ElementTree as ElementTree
from pathlib import Path

DIALECT_FILE_NAME = "FIX44-coinapi-ems.xml"
COINAPI_SECURITY_ID_SOURCE = "101"


class DictionaryNotFound(FileNotFoundError):
    """quickfix's standard FIX44.xml is not where its package installs it."""


def standard_fix44_path() -> Path:
    """Where the quickfix package installed its standard FIX 4.4 dictionary."""
    path = Path(sysconfig.get_path("data")) / "share" / "quickfix" / "FIX44.xml"
    if not path.is_file():
        raise DictionaryNotFound(
            f"quickfix's FIX44.xml is not at {path}; reinstall quickfix (scripts/bootstrap)"
        )
    return path


def write_ems_dictionary(directory: Path) -> Path:
    """Write the dialect's dictionary into ``directory`` (made if missing) and return its path."""
    tree = ElementTree.parse(standard_fix44_path())
    root = tree.getroot()
    _add_security_id_source_value(root)
    _make_optional(root, message="ExecutionReport", field="AvgPx")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / DIALECT_FILE_NAME
    partial = target.with_suffix(".xml.partial")
    tree.write(partial, encoding="utf-8", xml_declaration=True)
    partial.replace(target)
    return target


def _add_security_id_source_value(root: ElementTree.Element) -> None:
    field = root.find("./fields/field[@name='SecurityIDSource']")
    if field is None:
        raise ValueError("FIX44.xml has no SecurityIDSource field")
    if field.find(f"./value[@enum='{COINAPI_SECURITY_ID_SOURCE}']") is None:
        value = ElementTree.SubElement(field, "value")
        value.set("enum", COINAPI_SECURITY_ID_SOURCE)
        value.set("description", "COINAPI")


def _make_optional(root: ElementTree.Element, *, message: str, field: str) -> None:
    entry = root.find(f"./messages/message[@name='{message}']/field[@name='{field}']")
    if entry is None:
        raise ValueError(f"FIX44.xml has no {field} in {message}")
    entry.set("required", "N")
