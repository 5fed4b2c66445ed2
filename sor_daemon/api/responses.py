"""JSON answers: protocol messages through the one codec, errors as a sentence with a code."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from sor_daemon.protocol.errors import ProtocolError

STATUS_FOR_REASON = {"ORDER_ID_NOT_FOUND": 404, "FORBIDDEN": 403}
CLOSE_POLICY_VIOLATION = 1008
CLOSE_REASON_LIMIT = 120  # a close frame's reason is at most 123 bytes


def json_response(body: Any, status_code: int = 200) -> Response:
    """A JSON response from already-plain data."""
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status_code,
        media_type="application/json",
    )


def error_response(reason: str, message: str, status_code: int = 400) -> Response:
    """``{"error": reason, "message": sentence}`` with a 4xx or 5xx status."""
    return json_response({"error": reason, "message": message}, status_code)


def protocol_error_response(error: ProtocolError) -> Response:
    """400 (404 for an unknown id) with the error's reason and sentence."""
    return error_response(error.reason, error.message, STATUS_FOR_REASON.get(error.reason, 400))


async def refuse_websocket(
    websocket: WebSocket, reason: str, message: str, status_code: int
) -> None:
    """Refuse a WebSocket at its handshake, before accepting it: the HTTP status and the JSON
    error body when the server can send a denial response (hypercorn can), else a close (1008)
    with the sentence as its reason."""
    if websocket.client_state == WebSocketState.CONNECTING:
        await websocket.receive()  # websocket.connect
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(reason, message, status_code))
    else:
        await websocket.close(CLOSE_POLICY_VIOLATION, message[:CLOSE_REASON_LIMIT])
