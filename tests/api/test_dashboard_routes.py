"""The dashboard's page and files are served to anyone (they hold no data), GET only; every
other method on them, like any route the policy does not list, still needs an admin key."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.conftest import headers, serving


async def test_the_page_and_its_files_need_no_key(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        page = await http.get("/")
        script = await http.get("/static/app.js")
        style = await http.head("/static/style.css")
        missing = await http.get("/static/missing.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in page.text
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert missing.status_code == 404


async def test_only_get_is_open(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        anonymous = await http.post("/")
        viewer = await http.post("/static/app.js", headers=headers("viewer"))
        outside = await http.get("/static/nested/app.js")
    assert anonymous.status_code == 401
    assert viewer.status_code == 403
    assert outside.status_code == 401
