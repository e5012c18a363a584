"""The alert API on real PostgreSQL through a real server: visibility by bureau and role,
filters and cursor pagination, the lifecycle with role checks, notes and audit, the timeline,
and withdrawal when an entry is cancelled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
import pytest_asyncio
from sqlalchemy import select

from failsafe.actor import CLI_ACTOR
from failsafe.alerts import service
from failsafe.db.models import AlertTransition, AuditLog
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def http(app: RunningApp) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _all_ids(http: httpx2.AsyncClient, token: str, **params: Any) -> list[int]:
    ids: list[int] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await http.get("/v1/alerts", params=query, headers=auth(token))
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


async def test_visibility_filters_and_pagination(app: RunningApp, http: httpx2.AsyncClient) -> None:
    green = await make_entry(app.sessions, owner="FRA", notice_type="green")
    red = await make_entry(app.sessions, owner="FRA", notice_type="red", action="locate_and_detain")
    other = await make_entry(app.sessions, owner="ESP")
    a = await emit(
        app.sessions,
        app.bus,
        [
            make_hit(green, country="DEU", score=0.95),
            make_hit(red, country="DEU", score=0.8),
            make_hit(green, country="ITA", score=0.9),
            make_hit(other, country="DEU", score=0.99),
            make_hit(red, country="ITA", score=0.97),
        ],
    )
    ids = [x["id"] for x in a]
    fra = await make_token(app.sessions, "bureau", "FRA")
    deu = await make_token(app.sessions, "analyst", "DEU")
    admin = await make_token(app.sessions, "admin", None)
    border = await make_token(app.sessions, "border", "DEU")

    # Newest first; owner sees every alert on its entries, a recipient only its own.
    assert await _all_ids(http, fra, limit=2) == [ids[4], ids[2], ids[1], ids[0]]
    assert await _all_ids(http, deu, limit=1) == [ids[3], ids[1], ids[0]]
    assert await _all_ids(http, admin) == ids[::-1]
    assert (await http.get("/v1/alerts", headers=auth(border))).status_code == 403
    assert (await http.get("/v1/alerts")).status_code == 401
    r = await http.get("/v1/alerts", params={"cursor": "nope"}, headers=auth(fra))
    assert r.status_code == 400

    # Filters.
    assert await _all_ids(http, fra, notice_type="red") == [ids[4], ids[1]]
    critical = [x["id"] for x in a[::-1] if x["severity"] == "critical"]
    assert await _all_ids(http, fra, severity="critical") == [i for i in critical if i != ids[3]]
    assert await _all_ids(http, fra, entry_id=green["id"]) == [ids[2], ids[0]]
    assert await _all_ids(http, fra, min_score=0.92) == [ids[4], ids[0]]
    assert await _all_ids(http, fra, since_id=ids[1]) == [ids[4], ids[2]]
    assert await _all_ids(http, admin, bureau="ITA") == [ids[4], ids[2]]
    created = a[0]["created_at"]
    assert await _all_ids(http, fra, created_before=created) == []
    assert len(await _all_ids(http, fra, created_after=created)) == 4
    assert await _all_ids(http, fra, status="acknowledged") == []
    assert len(await _all_ids(http, fra, status=["new", "acknowledged"])) == 4
    r = await http.get("/v1/alerts", params={"status": "bogus"}, headers=auth(fra))
    assert r.status_code == 422

    # One alert: 404 for a bureau it was not routed to.
    r = await http.get(f"/v1/alerts/{ids[2]}", headers=auth(deu))
    assert r.status_code == 404
    r = await http.get(f"/v1/alerts/{ids[0]}", headers=auth(deu))
    assert r.status_code == 200
    body = r.json()
    assert body["recipients"] == ["DEU", "FRA"] and body["status"] == "new"
    assert body["transitions"] == [] and body["explanation"][0]["feature"] == "document_number"


async def test_lifecycle_roles_notes_and_audit(app: RunningApp, http: httpx2.AsyncClient) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    aid = alert["id"]
    deu = await make_token(app.sessions, "bureau", "DEU")
    fra = await make_token(app.sessions, "analyst", "FRA")
    ita = await make_token(app.sessions, "bureau", "ITA")
    border = await make_token(app.sessions, "border", "DEU")
    url = f"/v1/alerts/{aid}/transitions"

    async def move(token: str, status: str, **extra: Any) -> httpx2.Response:
        return await http.post(url, json={"status": status, **extra}, headers=auth(token))

    assert (await move(border, "acknowledged")).status_code == 403
    assert (await move(ita, "acknowledged")).status_code == 404
    assert (await move(deu, "confirmed")).status_code == 409  # skipping steps
    assert (await move(deu, "withdrawn")).status_code == 422  # not a manual step
    assert (await move(deu, "acknowledged", expected_status="in_review")).status_code == 409
    assert (await move(deu, "acknowledged", colour="red")).status_code == 422
    r = await move(deu, "acknowledged", note="on it", expected_status="new")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    assert (await move(fra, "acknowledged")).status_code == 409  # already
    assert (await move(fra, "in_review")).status_code == 200
    assert (await move(deu, "confirmed", note="document checked at the gate")).status_code == 200
    assert (await move(deu, "action_reported", note="discreet check done")).status_code == 200
    r = await move(fra, "closed")
    assert r.status_code == 200
    detail = r.json()
    assert [(t["from_status"], t["to_status"]) for t in detail["transitions"]] == [
        ("new", "acknowledged"),
        ("acknowledged", "in_review"),
        ("in_review", "confirmed"),
        ("confirmed", "action_reported"),
        ("action_reported", "closed"),
    ]
    assert detail["transitions"][0]["note"] == "on it"
    assert detail["transitions"][0]["bureau_code"] == "DEU"
    # Issue 14: the history names the officers (make_token names them "<role> <bureau>").
    assert [t["principal_name"] for t in detail["transitions"]] == [
        "bureau DEU", "analyst FRA", "bureau DEU", "bureau DEU", "analyst FRA",
    ]
    assert (await move(fra, "in_review")).status_code == 409  # closed is final
    r = await http.get(url, headers=auth(deu))
    assert len(r.json()) == 5
    assert r.json()[1]["principal_name"] == "analyst FRA"

    async with app.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.object_type == "alert", AuditLog.object_id == str(aid))
                .order_by(AuditLog.id)
            )
        ).all()
        actions = [r.action for r in rows if r.action not in ("alert.read",)]
        assert actions == [
            "alert.acknowledged", "alert.in_review", "alert.confirmed",
            "alert.action_reported", "alert.closed",
        ]
        # Notes are free text: never copied into the audit log.
        assert all("discreet" not in str(r.detail) for r in rows)

    # A false positive ends the alert too.
    (second,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
    url = f"/v1/alerts/{second['id']}/transitions"
    for status in ("acknowledged", "in_review", "false_positive"):
        assert (await move(deu, status)).status_code == 200
    assert (await move(deu, "closed")).status_code == 409


async def test_timeline_in_order_with_countries(app: RunningApp, http: httpx2.AsyncClient) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    hits = []
    for country, at in [("ITA", "2026-11-27T12:00:00+00:00"), ("DEU", "2026-11-25T08:00:00+00:00"),
                        ("AUT", "2026-11-26T09:30:00+01:00")]:
        hit = make_hit(entry, country=country)
        hit.event["occurred_at"] = at
        hits.append(hit)
    alerts = await emit(app.sessions, app.bus, hits)
    fra = await make_token(app.sessions, "bureau", "FRA")
    deu = await make_token(app.sessions, "bureau", "DEU")
    r = await http.get(f"/v1/alerts/{alerts[0]['id']}/timeline", headers=auth(fra))
    assert r.status_code == 200
    body = r.json()
    assert body["entry_id"] == entry["id"] and body["subject_name"] == "IVAN PETROV"
    assert [p["country"] for p in body["points"]] == ["DEU", "AUT", "ITA"]
    # DEU only sees the movement that was routed to it.
    r = await http.get(f"/v1/alerts/{alerts[1]['id']}/timeline", headers=auth(deu))
    assert [p["country"] for p in r.json()["points"]] == ["DEU"]
    r = await http.get(f"/v1/alerts/{alerts[0]['id']}/timeline", headers=auth(deu))
    assert r.status_code == 404


async def test_timeline_places_written_out(app: RunningApp, http: httpx2.AsyncClient) -> None:
    # Issue 14: each point carries its places, written out and placed for the map; a booking's
    # route in order, a crossing placed by its event's `crossing.location`, or only listed.
    entry = await make_entry(app.sessions, owner="FRA")
    booking = make_hit(entry, country="DEU")
    booking.event.update(
        kind="travel_booking", occurred_at="2026-11-25T08:00:00+00:00",
        flight={"carrier": "LH", "number": "1300", "origin": "FRA", "transit": ["IST"],
                "destination": "TAS"},
    )
    del booking.event["crossing"]
    placed = make_hit(entry, country="POL")
    placed.event["occurred_at"] = "2026-11-26T08:00:00+00:00"
    placed.event["crossing"]["location"] = {"lat": 52.35, "lon": 14.55}
    unplaced = make_hit(entry, country="AUT")
    alerts = await emit(app.sessions, app.bus, [booking, placed, unplaced])
    fra = await make_token(app.sessions, "bureau", "FRA")
    r = await http.get(f"/v1/alerts/{alerts[0]['id']}/timeline", headers=auth(fra))
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    route = points[0]["stops"]
    assert [(s["role"], s["label"]) for s in route] == [
        ("origin", "Frankfurt am Main (FRA), Germany"),
        ("transit", "Arnavutköy, Istanbul (IST), Türkiye"),
        ("destination", "Tashkent (TAS), Uzbekistan"),
    ]
    assert route[0]["lat"] == pytest.approx(50.03, abs=0.01)
    assert route[0]["lon"] == pytest.approx(8.54, abs=0.01)
    assert points[1]["stops"] == [
        {"role": "point", "code": "POL-T1", "label": "POL-T1, Poland", "country": "POL",
         "lat": 52.35, "lon": 14.55}
    ]
    (last,) = points[2]["stops"]
    assert last["label"] == "AUT-T1, Austria" and last["lat"] is None and last["lon"] is None


async def test_withdraw_open_alerts(app: RunningApp) -> None:
    entry = await make_entry(app.sessions, owner="FRA")
    other = await make_entry(app.sessions, owner="FRA")
    alerts = await emit(
        app.sessions, app.bus, [make_hit(entry, country="DEU") for _ in range(4)]
    )
    (untouched,) = await emit(app.sessions, app.bus, [make_hit(other, country="DEU")])
    actor = service.Actor(id=f"p_{uuid.uuid4().hex[:8]}", role="bureau", bureau_code="FRA")
    async with app.sessions() as session:
        # One already reported (stays), one closed (stays), two open (withdrawn).
        for status in ("acknowledged", "in_review", "confirmed", "action_reported"):
            await service.transition(session, actor, alerts[0]["id"], status)
        for status in ("acknowledged", "in_review", "false_positive"):
            await service.transition(session, actor, alerts[1]["id"], status)
        await service.transition(session, actor, alerts[2]["id"], "acknowledged")
    async with app.sessions() as session:
        ids = await service.withdraw_open_alerts(session, entry["id"], CLI_ACTOR, bus=app.bus)
    assert ids == [alerts[2]["id"], alerts[3]["id"]]
    async with app.sessions() as session:
        again = await service.withdraw_open_alerts(session, entry["id"], CLI_ACTOR, bus=app.bus)
        assert again == []
        rows = (
            await session.scalars(
                select(AlertTransition).where(AlertTransition.to_status == "withdrawn")
            )
        ).all()
        assert sorted(r.alert_id for r in rows) == ids
        assert all(r.principal_id == "cli" and r.note for r in rows)
        assert untouched["id"] not in ids
