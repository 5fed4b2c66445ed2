"""Rich tables for the commands that list things: smart orders and the EMS account."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table

from sor_daemon.ctl.tracking import OrderState

ACCOUNT_COLUMNS = {
    "balances": ["asset_id_exchange", "balance", "available", "locked", "traded"],
    "orders": [
        "client_order_id",
        "symbol_id_exchange",
        "side",
        "amount_order",
        "price",
        "amount_filled",
        "status",
        "time_in_force",
    ],
    "positions": [
        "symbol_id_exchange",
        "side",
        "quantity",
        "avg_entry_price",
        "unrealized_pnl",
        "leverage",
        "liquidation_price",
    ],
}
"""The columns shown for each account endpoint, in the EMS's own snake_case names."""


def requests_table(views: list[dict[str, Any]]) -> Table:
    """GET /requests: one row per smart order, oldest first, the full id kept on one line."""
    table = Table(title="smart orders")
    table.add_column("id", no_wrap=True, min_width=36)
    for name in ("algo", "side", "symbol", "filled", "fills", "avg price", "schedule", "status"):
        table.add_column(name)
    for view in views:
        order = OrderState.from_view(view)
        price = order.average_price
        status = view["status"] + (f": {view['statusInfo']}" if view.get("statusInfo") else "")
        table.add_row(
            view["id"],
            view["algorithm"],
            str(view["side"]).lower(),
            f"{view['symbol']} {','.join(view['exchanges'])}",
            f"{order.filled.normalize():f}/{Decimal(str(view['amount'])).normalize():f}",
            str(order.fills_count),
            "-" if price is None else f"{price:.2f}",
            f"{view['duration']}/{view['interval']}",
            status,
        )
    return table


def account_table(kind: str, grouped: dict[str, list[dict[str, Any]]]) -> Table:
    """GET /balances, /orders or /positions: one row per entry, grouped by exchange."""
    columns = ACCOUNT_COLUMNS[kind]
    table = Table(title=kind)
    table.add_column("exchange")
    for column in columns:
        table.add_column(column, no_wrap=column == "client_order_id")
    for exchange, entries in sorted(grouped.items()):
        for entry in entries:
            table.add_row(exchange, *(_cell(entry.get(column)) for column in columns))
    return table


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)
