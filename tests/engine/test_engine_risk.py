"""The risk gate and the kill switch in the engine, on a mock clock with a paper venue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from sor_daemon.config import config_from_dict
from sor_daemon.domain.risk import RiskLimits
from sor_daemon.domain.values import OrderStatus
from sor_daemon.engine.risk_gate import TokenBucket
from sor_daemon.protocol.errors import ProtocolError
from sor_daemon.protocol.messages import ParameterChanges
from sor_daemon.service import reload_risk_limits
from tests.support.orders import START
from tests.support.rig import Rig, infos, new, replayed, wait_until_over


async def test_the_child_order_rate_refuses_children_and_later_slices_catch_up(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    # one token, refilled every two seconds: every other one-second slice is refused
    rig.engine.services.risk.update(
        RiskLimits(child_orders_per_second=Decimal("0.5"), child_order_burst=1)
    )
    order = await rig.engine.submit(new("10", "4SEC", "1SEC"))
    await wait_until_over(order)
    sent_at = [(at - START) for _, at in rig.venue.sent]
    assert sent_at == [timedelta(seconds=s) for s in (0, 2, 4)]
    assert order.status is OrderStatus.COMPLETED and order.filled == Decimal(10)
    refusal = "risk: child order rate for DERIBIT over 0.5 a second; child not sent"
    assert infos(rig, order.id).count(refusal) == 2
    assert replayed(rig.journal, order.id) == order


async def test_a_clamped_child_says_so_in_status_info_until_a_clean_slice(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.engine.services.risk.update(RiskLimits(max_child_quantity=Decimal(2)))
    order = await rig.engine.submit(new("9", "3SEC", "1SEC"))
    await trio.sleep(1.5)  # slices 0 and 1: shares of 2.25 and 2.25, each clamped to 2
    assert [child.quantity for child in order.children.values()] == [Decimal(2)] * 2
    clamped = "risk: child quantity 2.3 over the 2 limit for DERIBIT_PERP_BTC_USD, clamped to 2.0"
    assert order.status_info == clamped
    rig.engine.services.risk.update(RiskLimits())  # a reload lifts the cap
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED and order.filled == Decimal(9)
    assert infos(rig, order.id)[-3:] == [clamped, None, None]  # a clean slice, then Completed


async def test_an_order_over_the_amount_limit_is_refused_at_submit_and_update(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    rig.engine.services.risk.update(RiskLimits(max_order_amount=Decimal(5)))
    with pytest.raises(ProtocolError) as refused:
        await rig.engine.submit(new("10", "4SEC", "1SEC"))
    assert refused.value.reason == "INVALID_PARAMETER"
    assert "risk: amount 10 is over the 5 limit for DERIBIT_PERP_BTC_USD" in refused.value.message
    order = await rig.engine.submit(new("4", "10SEC", "1SEC"))
    with pytest.raises(ProtocolError):
        await rig.engine.change(order.id, ParameterChanges(amount=Decimal(6)))
    assert order.amount == Decimal(4)


async def test_a_halt_stops_every_runner_and_resume_merges_the_missed_slices(
    rig: Rig, autojump_clock: trio.testing.MockClock
) -> None:
    order = await rig.engine.submit(new("10", "10SEC", "1SEC"))
    await trio.sleep(2.5)  # slices 0..2 sent
    assert len(rig.venue.sent) == 3
    mass_cancels = await rig.engine.halt("desk says stop")
    assert mass_cancels == {e: True for e in ("BINANCE", "COINBASE", "DERIBIT", "KRAKEN")}
    assert rig.venue.mass_cancels == ["BINANCE", "COINBASE", "DERIBIT", "KRAKEN"]
    assert rig.engine.halted
    await trio.sleep(5)
    assert len(rig.venue.sent) == 3
    assert order.status is OrderStatus.RUNNING
    assert order.status_info == "halted: desk says stop"
    with pytest.raises(ProtocolError, match="trading is halted"):
        await rig.engine.submit(new("1", "4SEC", "1SEC", order_id="during-halt"))

    await rig.engine.resume()
    assert not rig.engine.halted
    await trio.sleep(0.25)  # before slice 8 is due
    assert len(rig.venue.sent) == 4  # one catch-up slice for the missed 3..7, not a burst
    assert rig.venue.sent[-1][0].slice_index == 7
    assert order.status_info is None
    await wait_until_over(order)
    assert order.status is OrderStatus.COMPLETED


async def test_a_reload_swaps_the_risk_limits(rig: Rig) -> None:
    gate = rig.engine.services.risk
    config = config_from_dict({"risk": {"max_child_notional": "500000"}})
    assert reload_risk_limits(gate, config) == "risk limits updated"
    assert gate.limits.max_child_notional == Decimal(500000)
    assert reload_risk_limits(gate, config) is None


def test_a_take_for_an_earlier_time_does_not_turn_the_bucket_back() -> None:
    # Slices planned ahead take their tokens for when they will be sent, not always in order.
    rate, burst = Decimal(1), 2
    bucket = TokenBucket(burst, START)
    assert bucket.take(START + timedelta(seconds=2), rate, burst)
    assert bucket.take(START + timedelta(seconds=1), rate, burst)  # the last token, no refill
    # Half a token refilled since 2 s, not one and a half since 1 s.
    assert not bucket.take(START + timedelta(seconds=2.5), rate, burst)
