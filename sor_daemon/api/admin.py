"""The kill switch over REST: ``POST /v1/sor/halt`` and ``POST /v1/sor/resume``.

Halting stops every algorithm at once (running orders stay Running, their statusInfo saying
``halted: reason``) and sends an OrderMassCancelRequest to every venue; resuming lets them trade
again. Both answer the halt as it now stands, as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sor_daemon.api.responses import error_response, json_response
from sor_daemon.engine.engine import Engine

DEFAULT_HALT_REASON = "halted by an operator"
MAX_REASON_CHARS = 500


def admin_routes(engine: Engine, prefix: str) -> list[Route]:
    """The kill switch's routes under ``prefix``."""

    async def halt(request: Request) -> Response:
        reason = await _reason(request)
        if reason is None:
            return error_response(
                "INVALID_PARAMETER",
                'the body must be empty or a JSON object like {"reason": "..."} with a reason '
                f"of at most {MAX_REASON_CHARS} characters",
            )
        sent = await engine.halt(reason)
        mass_cancel = {exchange: "sent" if ok else "not sent" for exchange, ok in sent.items()}
        return json_response(_state(engine) | {"massCancel": mass_cancel})

    async def resume(request: Request) -> Response:
        await engine.resume()
        return json_response(_state(engine))

    return [
        Route(f"{prefix}/halt", halt, methods=["POST"]),
        Route(f"{prefix}/resume", resume, methods=["POST"]),
    ]


def _state(engine: Engine) -> dict[str, Any]:
    state = engine.halt_state
    if state is None:
        return {"halted": False}
    return {"halted": True, "reason": state.reason, "since": state.since.isoformat()}


async def _reason(request: Request) -> str | None:
    """The reason in the body, the default one for an empty body, None for a bad body."""
    body = await request.body()
    if not body.strip():
        return DEFAULT_HALT_REASON
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    reason = document.get("reason", DEFAULT_HALT_REASON)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        return None
    return reason.strip()
