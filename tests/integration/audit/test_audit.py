"""The audit log: every change and every read of personal data leaves a row (who, what, when,
never the personal data itself); admins query it with filters and a cursor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from tests.fixtures.app import Api, api_client, auth
from tests.fixtures.factories import entry_body, unique_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


async def test_changes_and_reads_are_audited_without_personal_data(api: Api) -> None:
    admin = await api.principal("admin")
    analyst = await api.principal("analyst", "FRA")
    me = (await api.client.get("/v1/principals/me", headers=auth(analyst))).json()["id"]
    surname = unique_token()
    started = datetime.now(UTC) - timedelta(seconds=1)
    c = api.client
    entry = (
        await c.post("/v1/watchlist", json=entry_body(None, surname=surname), headers=auth(analyst))
    ).json()
    url = f"/v1/watchlist/{entry['id']}"
    await c.get(url, headers=auth(analyst))
    await c.get("/v1/watchlist", params={"q": surname}, headers=auth(analyst))
    await c.patch(url, json={"subject": {"given_names": "PAVEL"}}, headers=auth(analyst))
    await c.get(f"{url}/versions", headers=auth(analyst))
    await c.get(f"{url}/sightings", headers=auth(analyst))
    await c.post(f"{url}/cancel", json={"reason": "done"}, headers=auth(analyst))

    r = await c.get("/v1/audit", params={"principal_id": me}, headers=auth(admin))
    assert r.status_code == 200
    rows = r.json()["items"]
    assert [x["action"] for x in rows] == [  # newest first
        "watchlist.cancel",
        "watchlist.sightings",
        "watchlist.versions",
        "watchlist.update",
        "watchlist.list",
        "watchlist.read",
        "watchlist.create",
    ]
    assert all(x["role"] == "analyst" and x["bureau_code"] == "FRA" for x in rows)
    assert all(datetime.fromisoformat(x["at"]) >= started for x in rows)
    update = rows[3]
    assert (update["object_id"], update["detail"]["version"]) == (entry["id"], 2)
    assert update["detail"]["fields"] == ["subject.given_names"]
    listing = rows[4]
    assert listing["detail"]["ids"] == [entry["id"]]
    assert listing["detail"]["filters"]["name_search"] is True
    dumped = json.dumps(rows)
    for personal in (surname, "PAVEL", "PETROV", "753123456"):
        assert personal not in dumped

    # Filters and the cursor.
    only = await c.get(
        "/v1/audit",
        params={"object_id": entry["id"], "action": "watchlist.update"},
        headers=auth(admin),
    )
    assert [x["action"] for x in only.json()["items"]] == ["watchlist.update"]
    family = await c.get(
        "/v1/audit", params={"principal_id": me, "action": "watchlist.*"}, headers=auth(admin)
    )
    assert len(family.json()["items"]) == 7
    seen: list[int] = []
    cursor = None
    while True:
        params = {"principal_id": me, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await c.get("/v1/audit", params=params, headers=auth(admin))).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [x["id"] for x in rows]
    future = await c.get(
        "/v1/audit",
        params={"principal_id": me, "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        headers=auth(admin),
    )
    assert future.json()["items"] == []
    naive = await c.get("/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=auth(admin))
    assert naive.status_code == 422


async def test_principal_changes_and_audit_queries_are_audited(api: Api) -> None:
    admin = await api.principal("admin")
    admin_id = (await api.client.get("/v1/principals/me", headers=auth(admin))).json()["id"]
    created = await api.client.post(
        "/v1/principals",
        json={"role": "border", "bureau": "PRT", "name": "Lisbon T1"},
        headers=auth(admin),
    )
    pid = created.json()["id"]
    await api.client.post(f"/v1/principals/{pid}/revoke", headers=auth(admin))
    await api.client.get("/v1/audit", params={"object_id": pid}, headers=auth(admin))
    r = await api.client.get("/v1/audit", params={"principal_id": admin_id}, headers=auth(admin))
    actions = [(x["action"], x["object_id"]) for x in r.json()["items"]]
    assert actions[:3] == [
        ("audit.query", None),
        ("principal.revoke", pid),
        ("principal.create", pid),
    ]
    assert created.json()["token"] not in json.dumps(r.json())
