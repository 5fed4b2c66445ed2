"""The relay between the EMS session and the engine: news handed on at once, none lost while
nobody listens, and in the order it came."""

from __future__ import annotations

from sor_daemon.engine.relay import Relay


def test_news_before_a_listener_is_kept_and_handed_over_in_order() -> None:
    relay = Relay[str]()
    relay.publish("logon")
    relay.publish("report 1")
    heard: list[str] = []
    relay.listen(heard.append)
    assert heard == ["logon", "report 1"]
    relay.publish("report 2")
    assert heard == ["logon", "report 1", "report 2"]  # on the publisher's turn, not later


def test_news_after_the_listener_stops_is_kept_for_the_next_one() -> None:
    relay = Relay[str]()
    first: list[str] = []
    relay.listen(first.append)
    relay.publish("report 1")
    relay.listen(None)
    relay.publish("report 2")
    second: list[str] = []
    relay.listen(second.append)
    assert (first, second) == (["report 1"], ["report 2"])


def test_news_published_by_the_listener_itself_comes_after_the_backlog() -> None:
    relay = Relay[str]()
    relay.publish("a")
    relay.publish("b")
    heard: list[str] = []

    def listener(news: str) -> None:
        heard.append(news)
        if news == "a":
            relay.publish("answer to a")

    relay.listen(listener)
    assert heard == ["a", "b", "answer to a"]
