"""JSON answers: protocol messages through the one codec, errors as a sentence with a code."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from sor_daemon.protocol.errors import ProtocolError

STATUS_FOR_REASON = {"ORDER_ID_NOT_FOUND": 404}


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
