"""Compact JSON text, fast: orjson, with the standard library for what orjson refuses.

Feed messages and log lines are encoded on the Trio thread for every child order and fill, and
the standard library's encoder was about a tenth of that thread's time. orjson refuses integers
beyond 64 bits; those (rare) values go through ``json`` instead, so nothing is ever lost. Text
already encoded can be included as an ``orjson.Fragment``, by either encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson


def compact_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``value`` as compact JSON text; ``default`` turns what JSON cannot hold into what it can,
    and keys that are not strings become strings."""
    try:
        return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), default=_decoding_fragments(default))


def _decoding_fragments(default: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """``default`` for ``json``, which does not know an ``orjson.Fragment``: one is decoded."""

    def plain(value: Any) -> Any:
        if isinstance(value, orjson.Fragment):
            return json.loads(orjson.dumps(value))
        if default is None:
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        return default(value)

    return plain
