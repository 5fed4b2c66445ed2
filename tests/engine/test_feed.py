"""The feed: one encoded message, the same object, to every subscriber that wants it, and none
encoded for nobody."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sor_daemon.engine.feed import Feed, FeedMessage


def test_a_message_goes_to_everyone_and_the_traders_own_orders_only_to_that_trader() -> None:
    feed = Feed()
    assert not feed.wants("desk-1") and not feed.wants(None)
    with feed.subscribe("desk-1") as desk_1, feed.subscribe("desk-2") as desk_2:
        assert feed.wants("desk-1") and feed.wants(None) and not feed.wants("desk-3")
        feed.publish("for desk-1", "desk-1")
        feed.publish("for everyone")
        to_desk_1, to_desk_2 = desk_1.take(), desk_2.take()
        assert [message.text for message in to_desk_1] == ["for desk-1", "for everyone"]
        assert to_desk_2 == [to_desk_1[1]], "one message shared, so the API frames it once"
        assert to_desk_2[0] is to_desk_1[1]
        with feed.subscribe() as viewer:
            assert feed.wants("desk-3")
            feed.publish("for desk-3", "desk-3")
            assert [message.text for message in viewer.take()] == ["for desk-3"]
    assert not feed.wants(None)


def test_a_subscriber_that_falls_behind_is_cut_off() -> None:
    feed = Feed(queue_size=1)
    with feed.subscribe() as slow:
        feed.publish("one")
        feed.publish("two")
        assert slow.dropped and slow.closed and feed.dropped == 1 and feed.subscribers == 0
        assert [message.text for message in slow.take()] == ["one"]
        assert slow.take() == []


def test_what_is_published_between_takes_is_one_entry_shared_by_every_queue() -> None:
    feed = Feed()
    with feed.subscribe() as first, feed.subscribe() as second:
        for text in ("one", "two", "three"):
            feed.publish(text)
        assert first.queued == second.queued == 3
        framings: list[list[str]] = []

        def framing(messages: Sequence[FeedMessage]) -> bytes:
            framings.append([message.text for message in messages])
            return "|".join(message.text for message in messages).encode()

        assert first.take_framed(math.inf, framing) == b"one|two|three"
        assert second.take_framed(math.inf, framing) == b"one|two|three"
        assert framings == [["one", "two", "three"]], "framed once for both subscribers"
        feed.publish("four")
        assert first.take_framed(math.inf, framing) == b"four"
        assert [message.text for message in second.take()] == ["four"]
        assert first.queued == second.queued == 0


def test_a_message_after_a_take_is_not_added_to_what_was_taken() -> None:
    feed = Feed()
    with feed.subscribe() as eager, feed.subscribe() as idle:
        feed.publish("one")
        assert [message.text for message in eager.take()] == ["one"]
        feed.publish("two")
        assert [message.text for message in eager.take()] == ["two"]
        assert [message.text for message in idle.take()] == ["one", "two"]


def test_a_subscriber_that_joins_gets_only_what_is_published_after() -> None:
    feed = Feed()
    with feed.subscribe() as early:
        feed.publish("one")
        with feed.subscribe() as late:
            feed.publish("two")
            assert [message.text for message in late.take()] == ["two"]
        assert [message.text for message in early.take()] == ["one", "two"]


def test_a_message_for_one_subscriber_keeps_its_place_among_the_published() -> None:
    feed = Feed()
    with feed.subscribe() as rejected, feed.subscribe() as other:
        feed.publish("one")
        rejected.offer(FeedMessage("your reject"))
        feed.publish("two")
        assert [m.text for m in rejected.take()] == ["one", "your reject", "two"]
        assert [m.text for m in other.take()] == ["one", "two"]


def test_a_take_stops_near_the_characters_asked_for_and_the_rest_stays_queued() -> None:
    feed = Feed()
    with feed.subscribe() as subscription:
        for text in ("aaaa", "bbbb", "cccc", "dddd"):
            feed.publish(text)
        assert [message.text for message in subscription.take(6)] == ["aaaa", "bbbb"]
        assert subscription.queued == 2
        feed.publish("eeee")
        assert [message.text for message in subscription.take(1)] == ["cccc"]
        assert [message.text for message in subscription.take()] == ["dddd", "eeee"]
        assert subscription.queued == 0


def test_only_the_subscriber_whose_queue_is_full_is_cut_off() -> None:
    feed = Feed(queue_size=2)
    with feed.subscribe() as reader, feed.subscribe() as slow:
        feed.publish("one")
        assert [message.text for message in reader.take()] == ["one"]
        feed.publish("two")
        feed.publish("three")
        assert slow.dropped and slow.closed and not reader.dropped
        assert [message.text for message in slow.take()] == ["one", "two"]
        assert [message.text for message in reader.take()] == ["two", "three"]
        assert feed.subscribers == 1


def test_a_queue_fills_with_the_subscribers_own_messages_too() -> None:
    feed = Feed(queue_size=2)
    with feed.subscribe() as subscription:
        feed.publish("one")
        subscription.offer(FeedMessage("a reject"))
        feed.publish("two")
        assert subscription.dropped
        assert [message.text for message in subscription.take()] == ["one", "a reject"]


def test_a_subscriber_cut_off_and_closed_again_leaves_the_newcomers_of_its_origin_alone() -> None:
    feed = Feed(queue_size=1)
    slow = feed.subscribe("desk-1")
    feed.publish("one", "desk-1")
    feed.publish("two", "desk-1")
    assert slow.dropped and feed.subscribers == 0
    with feed.subscribe("desk-1") as newcomer:
        slow.close()
        assert feed.subscribers == 1 and feed.wants("desk-1")
        feed.publish("three", "desk-1")
        assert [message.text for message in newcomer.take()] == ["three"]
