"""The watchlist API on real PostgreSQL: create, read, list, search, change, concurrency,
cancel, history, expiry, sightings, revisions, validation and size limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from failsafe.db import counters
from failsafe.db.models import (
    WatchlistEntry,
    WatchlistEntryVersion,
)
from tests.fixtures.app import Api, api_client, auth
from tests.fixtures.factories import entry_body, insert_alert, unique_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


@pytest_asyncio.fixture(scope="module")
async def analyst(api: Api) -> str:
    return await api.principal("analyst", "FRA")


@pytest_asyncio.fixture(scope="module")
async def admin(api: Api) -> str:
    return await api.principal("admin")


async def revision_now(api: Api) -> int:
    async with api.state.sessionmaker() as s:
        return await counters.current_value(s, counters.WATCHLIST_REVISION)


async def create(api: Api, token: str, **kw: object) -> dict[str, object]:
    r = await api.client.post("/v1/watchlist", json=entry_body(**kw), headers=auth(token))  # type: ignore[arg-type]
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_create_assigns_id_version_revision_and_history(api: Api, analyst: str) -> None:
    before = await revision_now(api)
    r = await api.client.post("/v1/watchlist", json=entry_body(None), headers=auth(analyst))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["owner_bureau"] == "FRA"  # defaulted to the analyst's bureau
    assert (doc["status"], doc["version"]) == ("active", 1)
    assert doc["revision"] == before + 1 == await revision_now(api)
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"/v1/watchlist/{doc['id']}"
    assert len(doc["id"]) == 32
    async with api.state.sessionmaker() as s:
        versions = (
            await s.scalars(
                select(WatchlistEntryVersion).where(WatchlistEntryVersion.entry_id == doc["id"])
            )
        ).all()
        row = await s.get(WatchlistEntry, doc["id"])
    assert [(v.version, v.change, v.revision) for v in versions] == [(1, "create", before + 1)]
    assert row is not None and "PETROV" in row.search_text


async def test_create_with_given_id_and_conflicts(api: Api, admin: str) -> None:
    entry_id = f"given-{unique_token().lower()}"
    doc = await create(api, admin, entry_id=entry_id, reference=f"REF/{entry_id}")
    assert doc["id"] == entry_id
    again = await api.client.post(
        "/v1/watchlist", json=entry_body(entry_id=entry_id), headers=auth(admin)
    )
    assert again.status_code == 409
    same_ref = await api.client.post(
        "/v1/watchlist", json=entry_body(reference=f"REF/{entry_id}"), headers=auth(admin)
    )
    assert same_ref.status_code == 409
    assert same_ref.json()["error"]["code"] == "conflict"


async def test_create_owner_rules(api: Api, admin: str, analyst: str) -> None:
    r = await api.client.post("/v1/watchlist", json=entry_body(None), headers=auth(admin))
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"] == ["body", "owner_bureau"]
    r = await api.client.post("/v1/watchlist", json=entry_body("DEU"), headers=auth(analyst))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"subject": {"surname": "X", "nationalities": ["QQQ"]}}, ["subject", "nationalities", 0]),
        (
            {"subject": {"surname": "X", "date_of_birth": "2001-02-29"}},
            ["subject", "date_of_birth"],
        ),
        ({"notice": {"type": "pink", "reference": "P/1"}}, ["notice", "type"]),
        ({"case": {"requested_action": "shoot"}}, ["case", "requested_action"]),
        ({"subject": {"surname": "X" * 201}}, ["subject", "surname"]),
        (
            {"subject": {"surname": "X", "aliases": [{"full_name": "Y"}] * 51}},
            ["subject", "aliases"],
        ),
        (
            {
                "subject": {
                    "surname": "X",
                    "documents": [{"type": "P", "number": "1", "issuing_state": "XYZ"}],
                }
            },
            ["subject", "documents", 0, "issuing_state"],
        ),
        ({"case": {"requested_action": "inform_only", "summary": "s" * 4001}}, ["case", "summary"]),
        (
            {"distribution": {"mode": "restricted", "allow": ["DEU"], "deny": ["DEU"]}},
            ["distribution"],
        ),
        ({"colour": "blue"}, ["colour"]),
    ],
)
async def test_field_level_validation(
    api: Api, analyst: str, change: dict[str, object], loc: list[object]
) -> None:
    body = {**entry_body("FRA"), **change}
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(analyst))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert ["body", *loc] in [d["loc"] for d in error["details"]]
    assert "input" not in error["details"][0]  # submitted values are never echoed


async def test_request_body_size_limit(api: Api, analyst: str) -> None:
    big = b'{"x": "' + b"a" * 300_000 + b'"}'
    r = await api.client.post(
        "/v1/watchlist", content=big, headers={**auth(analyst), "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield b" " * 10_000

    r = await api.client.post(
        "/v1/watchlist",
        content=chunks(),
        headers={**auth(analyst), "Content-Type": "application/json"},
    )
    assert r.status_code == 413


async def test_read_and_404(api: Api, analyst: str) -> None:
    doc = await create(api, analyst)
    r = await api.client.get(f"/v1/watchlist/{doc['id']}", headers=auth(analyst))
    assert r.status_code == 200
    assert r.json() == doc
    assert r.headers["ETag"] == '"1"'
    missing = await api.client.get("/v1/watchlist/no-such-entry", headers=auth(analyst))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_list_cursor_pagination(api: Api, analyst: str) -> None:
    token = unique_token()
    ids = [str((await create(api, analyst, surname=token))["id"]) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": token, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get("/v1/watchlist", params=params, headers=auth(analyst))
        assert r.status_code == 200
        page = r.json()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids) and pages == 3
    assert "total" not in page
    bad = await api.client.get("/v1/watchlist", params={"cursor": "!!"}, headers=auth(analyst))
    assert bad.status_code == 400


async def test_list_filters(api: Api, admin: str) -> None:
    token = unique_token()
    red = await create(api, admin, surname=token, notice_type="red", owner="FRA")
    green = await create(api, admin, surname=token, notice_type="green", owner="DEU")
    cancelled = await create(api, admin, surname=token, notice_type="green", owner="DEU")
    r = await api.client.post(f"/v1/watchlist/{cancelled['id']}/cancel", headers=auth(admin))
    assert r.status_code == 200

    async def ids(**params: str) -> set[str]:
        r = await api.client.get(
            "/v1/watchlist", params={"q": token, **params}, headers=auth(admin)
        )
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()["items"]}

    assert await ids() == {red["id"], green["id"], cancelled["id"]}
    assert await ids(notice_type="red") == {red["id"]}
    assert await ids(owner_bureau="DEU") == {green["id"], cancelled["id"]}
    assert await ids(status="active") == {red["id"], green["id"]}
    assert await ids(status="cancelled") == {cancelled["id"]}
    assert await ids(owner_bureau="DEU", status="active") == {green["id"]}
    bad = await api.client.get("/v1/watchlist", params={"status": "zzz"}, headers=auth(admin))
    assert bad.status_code == 422


async def test_name_search_uses_the_matchers_normalisation(api: Api, admin: str) -> None:
    token = unique_token()
    umlaut = await create(api, admin, surname=f"MÜLLER{token}", given_names="HANS")
    body = entry_body("FRA", surname=token, given_names="Z")
    body["subject"]["name_original"] = "Иван Петров"
    body["subject"]["aliases"] = [{"surname": f"ALIAS{token}", "given_names": "JOHN"}]
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(admin))
    other = r.json()

    async def found(q: str) -> set[str]:
        r = await api.client.get("/v1/watchlist", params={"q": q}, headers=auth(admin))
        return {e["id"] for e in r.json()["items"]}

    assert umlaut["id"] in await found(f"mueller{token.lower()} hans")
    assert umlaut["id"] in await found(f"MULLER{token}")
    assert other["id"] in await found(f"alias{token}")  # aliases are searched
    assert other["id"] in await found(f"{token} ivan petrov")  # any script, transliterated
    assert other["id"] not in await found(f"{token} nobody")  # every token must match


async def test_patch_creates_a_version_with_preconditions(api: Api, analyst: str) -> None:
    doc = await create(api, analyst)
    url = f"/v1/watchlist/{doc['id']}"
    before = await revision_now(api)
    r = await api.client.patch(
        url,
        json={"case": {"requested_action": "locate_and_detain", "summary": None}},
        headers={**auth(analyst), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert (new["version"], new["case"]["requested_action"]) == (2, "locate_and_detain")
    assert new["case"]["category"] == "nuclear_smuggling"  # merged, not replaced
    assert new["revision"] == before + 1
    assert r.headers["ETag"] == '"2"'
    assert new["subject"] == doc["subject"] and new["created_at"] == doc["created_at"]

    stale = await api.client.patch(
        url, json={"case": {"summary": "x"}}, headers={**auth(analyst), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["details"] == [{"current_version": 2}]
    stale_body = await api.client.patch(
        url, json={"version": 1, "case": {"summary": "x"}}, headers=auth(analyst)
    )
    assert stale_body.status_code == 409
    ok_body = await api.client.patch(
        url, json={"version": 2, "case": {"summary": "x"}}, headers=auth(analyst)
    )
    assert ok_body.status_code == 200 and ok_body.json()["version"] == 3

    # Read-modify-write of the whole document works; unchanged content makes no version.
    whole = ok_body.json()
    same = await api.client.patch(url, json=whole, headers=auth(analyst))
    assert same.status_code == 200 and same.json()["version"] == 3
    assert await revision_now(api) == before + 2

    bad = await api.client.patch(url, json={"subject": {"sex": "Q"}}, headers=auth(analyst))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["loc"] == ["body", "subject", "sex"]
    status = await api.client.patch(url, json={"status": "cancelled"}, headers=auth(analyst))
    assert status.status_code == 422
    owner = await api.client.patch(url, json={"owner_bureau": "DEU"}, headers=auth(analyst))
    assert owner.status_code == 403
    bad_etag = await api.client.patch(
        url, json={}, headers={**auth(analyst), "If-Match": "nonsense"}
    )
    assert bad_etag.status_code == 400


async def test_concurrent_patches_on_one_version_one_wins(api: Api, analyst: str) -> None:
    for _ in range(3):  # a few rounds: the race must never let both through
        doc = await create(api, analyst)
        url = f"/v1/watchlist/{doc['id']}"
        responses = await asyncio.gather(
            *(
                api.client.patch(
                    url, json={"case": {"summary": s}}, headers={**auth(analyst), "If-Match": '"1"'}
                )
                for s in ("a", "b")
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        winner = next(r.json() for r in responses if r.status_code == 200)
        final = (await api.client.get(url, headers=auth(analyst))).json()
        assert final["version"] == 2 and final["case"]["summary"] == winner["case"]["summary"]
        async with api.state.sessionmaker() as s:
            versions = await s.scalar(
                select(func.count()).where(WatchlistEntryVersion.entry_id == doc["id"])
            )
        assert versions == 2
    # `version` in the body races the same way: one 200, one 409.
    responses = await asyncio.gather(
        *(
            api.client.patch(
                url, json={"version": 2, "case": {"summary": s}}, headers=auth(analyst)
            )
            for s in ("c", "d")
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409]


async def test_cancel_history_and_no_hard_delete(api: Api, analyst: str) -> None:
    doc = await create(api, analyst)
    url = f"/v1/watchlist/{doc['id']}"
    await api.client.patch(url, json={"case": {"summary": "more"}}, headers=auth(analyst))
    stale = await api.client.post(f"{url}/cancel", json={"version": 1}, headers=auth(analyst))
    assert stale.status_code == 409
    r = await api.client.post(
        f"{url}/cancel", json={"reason": "withdrawn"}, headers={**auth(analyst), "If-Match": '"2"'}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"]) == ("cancelled", 3)
    assert r.json()["cancellation"]["reason"] == "withdrawn"
    again = await api.client.post(f"{url}/cancel", headers=auth(analyst))
    assert (again.status_code, again.json()["version"]) == (200, 3)
    frozen = await api.client.patch(url, json={"case": {"summary": "x"}}, headers=auth(analyst))
    assert frozen.status_code == 409
    delete = await api.client.delete(url, headers=auth(analyst))
    assert delete.status_code == 405
    read = await api.client.get(url, headers=auth(analyst))
    assert read.json()["status"] == "cancelled"

    history = await api.client.get(f"{url}/versions", headers=auth(analyst))
    items = history.json()["items"]
    assert [(v["version"], v["change"], v["status"]) for v in items] == [
        (1, "create", "active"),
        (2, "update", "active"),
        (3, "cancel", "cancelled"),
    ]
    revisions = [v["revision"] for v in items]
    assert revisions == sorted(revisions) and len(set(revisions)) == 3
    assert items[0]["entry"]["case"].get("summary") is None
    assert items[1]["entry"]["case"]["summary"] == "more"
    page = await api.client.get(f"{url}/versions", params={"limit": 2}, headers=auth(analyst))
    rest = await api.client.get(
        f"{url}/versions", params={"cursor": page.json()["next_cursor"]}, headers=auth(analyst)
    )
    assert [v["version"] for v in rest.json()["items"]] == [3]


async def test_expired_entries(api: Api, analyst: str) -> None:
    token = unique_token()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    body = entry_body("FRA", surname=token)
    body["notice"]["expires_at"] = past
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(analyst))
    assert r.status_code == 201
    expired = r.json()
    live = await create(api, analyst, surname=token)
    assert expired["status"] == "expired"
    read = await api.client.get(f"/v1/watchlist/{expired['id']}", headers=auth(analyst))
    assert read.json()["status"] == "expired"

    async def ids(status: str) -> set[str]:
        r = await api.client.get(
            "/v1/watchlist", params={"q": token, "status": status}, headers=auth(analyst)
        )
        return {e["id"] for e in r.json()["items"]}

    assert await ids("expired") == {expired["id"]}
    assert await ids("active") == {live["id"]}
    # Renewing the notice makes it active again.
    future = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    renewed = await api.client.patch(
        f"/v1/watchlist/{expired['id']}",
        json={"notice": {"expires_at": future}},
        headers=auth(analyst),
    )
    assert renewed.json()["status"] == "active"


async def test_sightings_timeline(api: Api, admin: str, analyst: str) -> None:
    doc = await create(api, admin, owner="FRA")
    entry_id = str(doc["id"])
    base = datetime(2026, 11, 1, tzinfo=UTC)
    # Inserted out of time order: the timeline sorts by when they happened.
    plan = [
        ("b", base + timedelta(days=2), "border_crossing", "DEU", [], ["FRA", "DEU"]),
        ("a", base + timedelta(days=1), "travel_booking", None, ["FRA", "TUR", "GEO"], ["FRA"]),
        ("c", base + timedelta(days=3), "border_crossing", "DEU", [], ["FRA", "DEU", "ITA"]),
    ]
    for key, at, kind, country, route, recipients in plan:
        await insert_alert(
            api.sessions,
            entry_id,
            event_id=f"{entry_id}-{key}",
            occurred_at=at,
            kind=kind,
            country=country,
            route_countries=route,
            recipients=recipients,
            traveller_key=key,
        )

    r = await api.client.get(f"/v1/watchlist/{entry_id}/sightings", headers=auth(analyst))
    assert r.status_code == 200
    timeline = r.json()
    assert [x["event_id"][-1] for x in timeline["sightings"]] == ["a", "b", "c"]
    assert timeline["countries"] == ["FRA", "TUR", "GEO", "DEU"]
    # Another bureau sees only the sightings routed to it.
    italy = await api.principal("bureau", "ITA")
    r = await api.client.get(f"/v1/watchlist/{entry_id}/sightings", headers=auth(italy))
    assert [x["event_id"][-1] for x in r.json()["sightings"]] == ["c"]


async def test_every_change_bumps_the_revision_by_one(api: Api, analyst: str) -> None:
    start = await revision_now(api)
    doc = await create(api, analyst)
    url = f"/v1/watchlist/{doc['id']}"
    await api.client.patch(url, json={"case": {"summary": "1"}}, headers=auth(analyst))
    await api.client.get(url, headers=auth(analyst))  # reads change nothing
    await api.client.post(f"{url}/cancel", headers=auth(analyst))
    assert await revision_now(api) == start + 3
    async with api.state.sessionmaker() as s:
        row = await s.get(WatchlistEntry, doc["id"])
    assert row is not None and row.revision == start + 3
