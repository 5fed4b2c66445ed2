"""The outbox hands what any thread queues, in order, to a thread of its own."""

from __future__ import annotations

import threading
import time

from sor_daemon.fix.outbox import Outbox


class HeldSender:
    """Records what it is given; the first call waits until ``release``."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.first_taken = threading.Event()
        self._released = threading.Event()

    def __call__(self, item: bytes) -> None:
        if not self.first_taken.is_set():
            self.first_taken.set()
            self._released.wait(timeout=10)
        if item == b"boom":
            raise RuntimeError("the peer is gone")
        self.sent.append(item)

    def release(self) -> None:
        self._released.set()


def test_items_are_sent_in_order_and_close_sends_what_is_queued() -> None:
    sender = HeldSender()
    outbox = Outbox[bytes](sender, name="test")
    outbox.open()
    assert outbox.put(b"1")
    sender.first_taken.wait(timeout=10)
    for item in (b"2", b"3", b"4"):
        outbox.put(item)
    sender.release()
    outbox.close(send_queued=True)
    assert sender.sent == [b"1", b"2", b"3", b"4"]


def test_closing_without_sending_drops_what_is_queued() -> None:
    sender = HeldSender()
    outbox = Outbox[bytes](sender, name="test")
    outbox.open()
    outbox.put(b"1")
    sender.first_taken.wait(timeout=10)
    outbox.put(b"2")
    closing = threading.Thread(target=outbox.close, kwargs={"send_queued": False})
    closing.start()
    while outbox.put(b"3"):  # until the outbox is closing: then nothing queued is sent
        time.sleep(0.001)
    sender.release()
    closing.join(timeout=10)
    assert sender.sent == [b"1"]


def test_a_failed_send_is_logged_and_the_next_item_still_goes() -> None:
    sender = HeldSender()
    outbox = Outbox[bytes](sender, name="test")
    outbox.open()
    sender.release()
    for item in (b"1", b"boom", b"2"):
        outbox.put(item)
    outbox.close(send_queued=True)
    assert sender.sent == [b"1", b"2"]


def test_nothing_is_taken_before_the_outbox_opens() -> None:
    outbox = Outbox[bytes](HeldSender(), name="test")
    assert not outbox.put(b"1")
