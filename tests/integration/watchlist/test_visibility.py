"""Distribution rules in list, search and read: restricted entries are invisible (not even
counted) to bureaus that are not the owner or allowed; `deny` excludes whatever the mode."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fixtures.app import Api, api_client, auth
from tests.fixtures.factories import entry_body, unique_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


async def test_restricted_and_denied_entries_in_list_and_search(api: Api) -> None:
    token = unique_token()
    admin = await api.principal("admin")
    callers = {
        "FRA": await api.principal("analyst", "FRA"),  # owner
        "ITA": await api.principal("bureau", "ITA"),  # allowed
        "DEU": await api.principal("bureau", "DEU"),  # neither
        "ESP": await api.principal("analyst", "ESP"),  # denied on one entry
    }
    plan = {
        "open": {"mode": "all"},
        "restricted": {"mode": "restricted", "allow": ["ITA"]},
        "denied": {"mode": "all", "deny": ["ESP"]},
        "restricted_denied": {"mode": "restricted", "allow": ["ITA", "DEU"], "deny": ["ESP"]},
    }
    ids: dict[str, str] = {}
    for name, distribution in plan.items():
        r = await api.client.post(
            "/v1/watchlist",
            json=entry_body("FRA", surname=token, distribution=distribution),
            headers=auth(admin),
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    expected = {
        "FRA": {"open", "restricted", "denied", "restricted_denied"},
        "ITA": {"open", "restricted", "denied", "restricted_denied"},
        "DEU": {"open", "denied", "restricted_denied"},
        "ESP": {"open"},
    }
    for bureau, token_ in callers.items():
        # Search by name and a plain list filtered by owner agree, and count only what is visible.
        r = await api.client.get("/v1/watchlist", params={"q": token}, headers=auth(token_))
        found = {e["id"] for e in r.json()["items"]}
        assert found == {ids[n] for n in expected[bureau]}, bureau
        assert len(r.json()["items"]) == len(expected[bureau])
        # Reading an invisible entry is a 404, the same as an entry that does not exist.
        for name, entry_id in ids.items():
            read = await api.client.get(f"/v1/watchlist/{entry_id}", headers=auth(token_))
            assert read.status_code == (200 if name in expected[bureau] else 404), (bureau, name)
            history = await api.client.get(
                f"/v1/watchlist/{entry_id}/versions", headers=auth(token_)
            )
            assert history.status_code == read.status_code
    # Pagination cannot reveal them either: walking every page by one finds the same set.
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": token, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (
            await api.client.get("/v1/watchlist", params=params, headers=auth(callers["DEU"]))
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(seen) == {ids[n] for n in expected["DEU"]}
    # The admin sees all four.
    r = await api.client.get("/v1/watchlist", params={"q": token}, headers=auth(admin))
    assert len(r.json()["items"]) == 4


async def test_visible_but_not_owned_cannot_be_changed(api: Api) -> None:
    owner = await api.principal("analyst", "FRA")
    other = await api.principal("analyst", "ITA")
    r = await api.client.post("/v1/watchlist", json=entry_body("FRA"), headers=auth(owner))
    url = f"/v1/watchlist/{r.json()['id']}"
    assert (await api.client.get(url, headers=auth(other))).status_code == 200
    assert (await api.client.patch(url, json={}, headers=auth(other))).status_code == 403
    assert (await api.client.post(f"{url}/cancel", headers=auth(other))).status_code == 403
