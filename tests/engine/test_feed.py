"""The feed: one encoded message, the same object, to every subscriber that wants it, and none
encoded for nobody."""

from __future__ import annotations

from sor_daemon.engine.feed import Feed


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
