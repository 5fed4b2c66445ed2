"""A real HTTP server on loopback that answers each request with the next scripted response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import attrs
import hypercorn.trio
import pytest
import trio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sor_daemon.http_server import server_config

HANG = "hang"


@attrs.define
class ScriptedServer:
    """Where it listens, what it will answer next (then ``{"ok": true}``), what it was asked.

    An answer of ``HANG`` never answers.
    """

    url: str
    answers: list[Response | str] = attrs.Factory(list)
    requests: list[Request] = attrs.Factory(list)

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        request = Request(scope, receive)  # type: ignore[arg-type]
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else JSONResponse({"ok": True})
        if answer == HANG:
            await trio.sleep_forever()
        assert isinstance(answer, Response)
        await answer(scope, receive, send)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    """A scripted server on a free loopback port, for the test's duration."""
    script = ScriptedServer(url="")
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(hypercorn.trio.serve, script, server_config("127.0.0.1", 0))  # type: ignore[arg-type]
        )
        script.url = binds[0]
        yield script
        nursery.cancel_scope.cancel()
