"""One small HTTP client for CoinAPI-shaped REST APIs: key header, timeouts, clear errors."""

from __future__ import annotations

from typing import Any

import httpx

KEY_HEADER = "X-CoinAPI-Key"


class UpstreamError(RuntimeError):
    """A CoinAPI-shaped server could not be asked, or answered with an error; says which."""


class CoinApiRest:
    """GETs JSON from ``base_url`` with the API key in ``X-CoinAPI-Key``."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 5.0) -> None:
        headers = {KEY_HEADER: api_key} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The decoded JSON body of ``GET path``; raises UpstreamError on any failure."""
        try:
            response = await self._client.get(path, params=params)
        except httpx.HTTPError as error:
            raise UpstreamError(f"{self.base_url}{path} could not be reached: {error}") from error
        if response.status_code == 401:
            raise UpstreamError(f"{self.base_url} refused the API key (401): check the key")
        if response.status_code >= 400:
            raise UpstreamError(
                f"{self.base_url}{path} answered {response.status_code}: {response.text[:200]}"
            )
        try:
            return response.json()
        except ValueError as error:
            raise UpstreamError(f"{self.base_url}{path} did not answer JSON") from error

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
