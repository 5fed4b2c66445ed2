"""One small HTTP client for CoinAPI-shaped REST APIs: the key header, timeouts, retries, errors.

A GET that fails for a reason that may pass is tried again, up to ``RetryPolicy.attempts`` times in
all, after an exponential backoff with jitter: a transport failure (connect, read, a request
slower than the timeout), 429 (after the server's ``Retry-After`` seconds, capped by the largest
backoff) and 5xx, except CoinAPI's 550 (the symbol has no data), which no retry changes. A
refused or missing API key (401, 403) and any other 4xx are raised at once with the server's
``{"error": ...}`` text: asking again would only spend the caller's quota.
"""

from __future__ import annotations

import random
from typing import Any

import attrs
import httpx
import structlog
import trio

KEY_HEADER = "X-CoinAPI-Key"
NO_DATA = 550

log = structlog.get_logger(__name__)


class UpstreamError(RuntimeError):
    """A CoinAPI-shaped server could not be asked, or answered with an error; says which.

    ``status`` is the HTTP status of the last answer, None when none came.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiKeyError(UpstreamError):
    """The server wants an API key and got none, or refused the one it got (401, 403)."""


@attrs.frozen
class RetryPolicy:
    """How hard a request is tried: attempts in all, and the backoff between them (seconds).

    The n-th retry waits a random time between half and all of ``first_backoff * 2**(n-1)``,
    never more than ``max_backoff``; a 429 waits its ``Retry-After`` instead, capped the same.
    """

    attempts: int = 4
    first_backoff: float = 0.25
    max_backoff: float = 10.0

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number ``retry`` (1 for the first)."""
        ceiling = min(self.max_backoff, self.first_backoff * 2 ** (retry - 1))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_RETRY = RetryPolicy()


class _Retryable(Exception):
    """An attempt failed for a reason that may pass; says why, and how long to wait if told."""

    def __init__(self, reason: str, status: int | None, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait


class CoinApiRest:
    """GETs JSON from ``base_url`` with the API key in ``X-CoinAPI-Key``.

    ``timeout`` bounds each attempt (seconds); ``key_setting`` names where the operator sets
    the key, for the error that says to check it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 5.0,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        key_setting: str = "the api_key setting",
    ) -> None:
        headers = {KEY_HEADER: api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._retry = retry
        self._key_setting = key_setting
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The decoded JSON body of ``GET path``; raises UpstreamError (ApiKeyError for the key)."""
        url = f"{self.base_url}{path}"
        attempt = 1
        while True:
            try:
                return await self._attempt(url, path, params)
            except _Retryable as failure:
                if attempt >= self._retry.attempts:
                    raise UpstreamError(
                        f"{url} {failure.reason}; gave up after {attempt} attempts",
                        failure.status,
                    ) from None
                wait = (
                    self._retry.backoff(attempt)
                    if failure.wait is None
                    else min(failure.wait, self._retry.max_backoff)
                )
                log.warning(
                    "CoinAPI request failed, will retry",
                    url=url,
                    reason=failure.reason,
                    attempt=attempt,
                    retry_in_seconds=round(wait, 3),
                )
                await trio.sleep(wait)
                attempt += 1

    async def _attempt(self, url: str, path: str, params: dict[str, str] | None) -> Any:
        """One GET: the JSON body, ``_Retryable`` for a failure worth another try, or raise."""
        with trio.move_on_after(self._timeout) as deadline:
            try:
                response = await self._client.get(path, params=params)
            except httpx.TransportError as error:
                raise _Retryable(f"could not be reached: {error!r}", None) from None
        if deadline.cancelled_caught:
            raise _Retryable(f"did not answer within {self._timeout:g} s", None)
        status = response.status_code
        if status == 429:
            raise _Retryable("throttled the caller (429)", status, _retry_after(response))
        if status >= 500 and status != NO_DATA:
            raise _Retryable(f"answered {status}: {_error_text(response)}", status)
        if status in (401, 403):
            raise self._key_error(url, response)
        if status >= 400:
            raise UpstreamError(f"{url} answered {status}: {_error_text(response)}", status)
        try:
            return response.json()
        except ValueError as error:
            raise UpstreamError(f"{url} did not answer JSON", status) from error

    def _key_error(self, url: str, response: httpx.Response) -> ApiKeyError:
        answer = f"{response.status_code}: {_error_text(response)}"
        if not self._api_key:
            return ApiKeyError(
                f"{url} needs an API key and none is configured ({answer}): "
                f"set {self._key_setting}",
                response.status_code,
            )
        return ApiKeyError(
            f"CoinAPI refused the API key ending in {self._api_key[-4:]!r} at {url} "
            f"({answer}): check {self._key_setting}",
            response.status_code,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, or None when absent or not a number of seconds."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _error_text(response: httpx.Response) -> str:
    """CoinAPI's ``{"error": ...}`` text, or the start of whatever body came instead."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return response.text[:200] or response.reason_phrase
