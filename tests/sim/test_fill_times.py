"""GET /v1/sim/fill-times: when each fill report was handed to quickfix, per ClOrdID and CumQty,
so a feed's TradeFill can be matched to the moment its report left the simulator."""

from __future__ import annotations

import time
from decimal import Decimal as D
from pathlib import Path

import httpx

from sor_daemon.sim.fill_times import FillTimes
from sor_daemon.sim.service import SimulatorHandle

from .fix_client import connect, new_id
from .test_fix_session import BTC_PERP, current_quote, send_order


def test_a_report_sent_again_keeps_its_first_time() -> None:
    times = FillTimes()
    times.record("C-1", D("0.5"), 10.0)
    times.record("C-1", D("0.5"), 11.0)
    times.record("C-1", D("1.5"), 12.0)
    assert [(t.client_order_id, t.cum_qty, t.sent_at) for t in times.all()] == [
        ("C-1", D("0.5"), 10.0),
        ("C-1", D("1.5"), 12.0),
    ]


async def test_every_trade_report_is_stamped_with_its_cum_qty_and_send_time(
    simulator: SimulatorHandle, tmp_path: Path
) -> None:
    quote = await current_quote(simulator, BTC_PERP)
    async with connect(simulator, tmp_path) as client:
        order_id = new_id()
        before = time.time()
        send_order(client, order_id, price=D(int(quote["ask_price"] * 1.01)), quantity="500")
        reports = await client.reports_until_done(order_id)
        after = time.time()
    trades = [report for report in reports if report[150] == "F"]
    assert trades

    async with httpx.AsyncClient(base_url=simulator.http_url) as http:
        stamps = (await http.get("/v1/sim/fill-times")).json()
    mine = [stamp for stamp in stamps if stamp["client_order_id"] == order_id]
    assert [D(str(stamp["cum_qty"])) for stamp in mine] == [D(trade[14]) for trade in trades]
    sent = [stamp["sent_at"] for stamp in mine]
    assert sent == sorted(sent)
    assert before <= sent[0] and sent[-1] <= after
