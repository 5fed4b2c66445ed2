"""The bridge hands what quickfix's threads hear to Trio in the order they heard it: messages,
logons and logouts alike, however many arrive before the Trio thread gets to them."""

from __future__ import annotations

import quickfix as fix
import trio

from sor_daemon.fix.bridge import TrioBridge
from sor_daemon.fix.dialect import FlatFields, framed_message

MESSAGES = 3000
SESSION_BOUNCE_EVERY = 700


async def test_what_another_thread_hands_over_arrives_in_order_while_trio_is_busy() -> None:
    received: list[object] = []
    bridge = TrioBridge(
        "ems",
        trio.lowlevel.current_trio_token(),
        received.append,
        translate=lambda fields: fields.get(11),
        on_logon=lambda: "logged on",
        on_logout=lambda: "logged out",
        read=FlatFields.read,
    )
    session = fix.SessionID("FIX.4.4", "SOR", "EMS")
    expected: list[object] = []

    def quickfix_thread() -> None:
        for index in range(MESSAGES):
            bridge.fromApp(framed_message(f"35=8\x0111=child-{index}\x01"), session)
            expected.append(f"child-{index}")
            if index % SESSION_BOUNCE_EVERY == 0:
                bridge.onLogout(session)
                bridge.onLogon(session)
                expected.extend(["logged out", "logged on"])

    async def keep_trio_busy(done: trio.Event) -> None:
        while not done.is_set():
            await trio.lowlevel.checkpoint()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            handed_over = trio.Event()
            nursery.start_soon(keep_trio_busy, handed_over)
            await trio.to_thread.run_sync(quickfix_thread)
            handed_over.set()
        while len(received) < len(expected):
            await trio.lowlevel.checkpoint()

    assert received == expected
