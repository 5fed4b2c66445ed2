"""The one error every edge raises for input it cannot accept."""

from __future__ import annotations


class ProtocolError(ValueError):
    """Inbound input that cannot be accepted.

    ``reason`` is a short machine-readable code (CoinAPI's reject reasons where one fits:
    ``JSON_ERROR``, ``INVALID_TYPE``, ``ORDER_ID_NOT_FOUND``; ``INVALID_PARAMETER`` otherwise);
    the message is a sentence a person can act on.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
