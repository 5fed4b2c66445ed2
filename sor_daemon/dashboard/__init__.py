"""The operator's dashboard: one static page at ``/`` and its files under ``/static/``.

The page is plain HTML, CSS and JavaScript modules shipped as package data (no build step); it
talks to the daemon only through the public REST API and the WebSocket feed, with the API key the
operator types into its settings, so it can do nothing another client could not. Serving the
files therefore needs no key (``api.auth`` lists these routes as open, GET only).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def dashboard_routes() -> list[BaseRoute]:
    """``GET /`` (the page) and ``GET /static/{file}`` (its scripts and styles)."""

    async def page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    return [
        Route("/", page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
