"""An EMS that leaves LastQty, LastPx and AvgPx out of its reports, as CoinAPI may: the daemon
books fills from CumQty growth alone, and they still add up to what the EMS executed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import trio
from trio_websocket import open_websocket_url

from tests.integration.feed_client import FeedClient, is_final, new_order
from tests.support.processes import running_daemon


async def test_fills_are_booked_from_cumqty_when_reports_are_lean(tmp_path: Path) -> None:
    with running_daemon(tmp_path, "lean_reports = true") as daemon:
        with trio.fail_after(60):
            async with open_websocket_url(daemon.ws_url) as connection:
                feed = FeedClient(connection)
                await feed.send(new_order("lean-1", "3", "2SEC", "1SEC"))
                messages = await feed.collect("lean-1", is_final)
        async with httpx.AsyncClient() as http:
            ledger = (await http.get(f"{daemon.sim_url}/v1/sim/executions")).json()
    final = messages[-1]["Data"]
    assert final["Status"] == "Completed" and final["TotalFilled"] == 3
    requests = {
        m["Data"]["client_order_id"]: m["Data"] for m in messages if m["Type"] == "TradeRequest"
    }
    for fill in (m["Data"] for m in messages if m["Type"] == "TradeFill"):
        limit = Decimal(str(requests[fill["OrderId"]]["price"]))
        assert Decimal(str(fill["Price"])) == limit  # no price on the wire: the limit stands in
    booked: dict[str, Decimal] = {}
    for fill in (m["Data"] for m in messages if m["Type"] == "TradeFill"):
        booked[fill["OrderId"]] = booked.get(fill["OrderId"], Decimal(0)) + Decimal(
            str(fill["AmountFilled"])
        )
    executed = {child: Decimal(str(entry["cum_qty"])) for child, entry in ledger.items()}
    assert booked == {child: qty for child, qty in executed.items() if qty > 0}
    assert set(executed) == set(requests)
