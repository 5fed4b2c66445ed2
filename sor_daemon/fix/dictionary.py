"""The FIX 4.4 data dictionaries of our sessions, derived from quickfix's own FIX44.xml.

CoinAPI's EMS dictionary is standard FIX 4.4 with two differences: SecurityIDSource (22) has the
custom value ``101`` (a CoinAPI symbol id), and AvgPx (6) is optional in an ExecutionReport. The
order-entry dictionary (institutions sending smart orders to the daemon) adds the
StrategyParametersGrp (957-960) of later FIX versions to NewOrderSingle and
OrderCancelReplaceRequest, and lifts the value lists of TargetStrategy (847; ours are 1 VWAP and
1001 TWAP) and SecurityType (167; ours are the SOR's symbol types), so that an unknown value
reaches the application and is answered with an ExecutionReport that says what is accepted,
instead of a bare session Reject. We do not ship a copy of the standard dictionary: at start we
read the one the quickfix package installs (under ``<sys.prefix>/share/quickfix/``), apply the
differences, and write the result into the daemon's data directory, where both FIX ends load it.
"""

from __future__ import annotations

import sysconfig
import xml.etree.ElementTree as ElementTree
from pathlib import Path

DIALECT_FILE_NAME = "FIX44-coinapi-ems.xml"
ORDER_ENTRY_FILE_NAME = "FIX44-sor-order-entry.xml"
STRATEGY_PARAMETER_FIELDS = (
    ("957", "NoStrategyParameters", "NUMINGROUP"),
    ("958", "StrategyParameterName", "STRING"),
    ("959", "StrategyParameterType", "INT"),
    ("960", "StrategyParameterValue", "STRING"),
)
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
    return _write(tree, directory / DIALECT_FILE_NAME)


def write_order_entry_dictionary(directory: Path) -> Path:
    """Write the order-entry session's dictionary into ``directory``; return its path."""
    tree = ElementTree.parse(standard_fix44_path())
    root = tree.getroot()
    _add_strategy_parameters(root)
    for field in ("TargetStrategy", "SecurityType"):
        _lift_values(root, field)
    return _write(tree, directory / ORDER_ENTRY_FILE_NAME)


def _write(tree: ElementTree.ElementTree, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
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


def _add_strategy_parameters(root: ElementTree.Element) -> None:
    """Fields 957-960 and the group in NewOrderSingle and OrderCancelReplaceRequest."""
    fields = root.find("./fields")
    if fields is None:
        raise ValueError("FIX44.xml has no fields")
    for number, name, kind in STRATEGY_PARAMETER_FIELDS:
        if fields.find(f"./field[@number='{number}']") is None:
            ElementTree.SubElement(fields, "field", number=number, name=name, type=kind)
    for message in ("NewOrderSingle", "OrderCancelReplaceRequest"):
        entry = root.find(f"./messages/message[@name='{message}']")
        if entry is None:
            raise ValueError(f"FIX44.xml has no {message}")
        group = ElementTree.SubElement(entry, "group", name="NoStrategyParameters", required="N")
        for _, name, _ in STRATEGY_PARAMETER_FIELDS[1:]:
            ElementTree.SubElement(group, "field", name=name, required="N")


def _lift_values(root: ElementTree.Element, name: str) -> None:
    """Let any value of the field's type through (the application checks it)."""
    field = root.find(f"./fields/field[@name='{name}']")
    if field is None:
        raise ValueError(f"FIX44.xml has no {name} field")
    for value in field.findall("./value"):
        field.remove(value)
