"""GET /requests over HTTP: every order or the newest few, one order by id, and a clear 400 for
a count that is not one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import headers, new_order, serving


async def test_every_order_or_the_newest_few_are_listed_oldest_first(tmp_path: Path) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        as_desk = headers("desk-1")
        empty = await http.get("/v1/sor/requests", headers=as_desk)
        assert (empty.status_code, empty.json()) == (200, [])
        assert empty.headers["content-type"] == "application/json"

        added = []
        for amount in ("1", "2", "3"):
            answer = await http.post("/v1/sor/add", json=new_order(amount), headers=as_desk)
            added.append(answer.json()["id"])

        every = (await http.get("/v1/sor/requests", headers=as_desk)).json()
        assert [view["id"] for view in every] == added
        assert [view["amount"] for view in every] == [1, 2, 3]
        newest = await http.get("/v1/sor/requests", params={"newest": 2}, headers=as_desk)
        assert newest.json() == every[1:]

        one = await http.get(f"/v1/sor/requests/{added[0]}", headers=as_desk)
        assert one.json() == every[0]
        missing = await http.get("/v1/sor/requests/never", headers=as_desk)
        assert missing.status_code == 404
        assert missing.json()["error"] == "ORDER_ID_NOT_FOUND"


@pytest.mark.parametrize("count", ["0", "-1", "two", "1.5", "", "99999999999"])
async def test_a_count_that_is_not_one_is_refused(tmp_path: Path, count: str) -> None:
    async with serving(tmp_path) as api, httpx.AsyncClient(base_url=api.url) as http:
        await http.post("/v1/sor/add", json=new_order(), headers=headers("desk-1"))
        answer = await http.get(
            "/v1/sor/requests", params={"newest": count}, headers=headers("viewer")
        )
        assert answer.status_code == 400
        assert answer.json() == {
            "error": "INVALID_PARAMETER",
            "message": f"newest must be a whole number of orders, 1 or more: {count!r}",
        }
        assert len((await http.get("/v1/sor/requests", headers=headers("viewer"))).json()) == 1
