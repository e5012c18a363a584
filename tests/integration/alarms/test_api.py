"""Project Stone end to end through the HTTP API in the embedded mode (no Kafka: POST /v1/events
and POST /v1/alarms feed the in-process pipeline) on the real PostgreSQL, with bureaus on the
websocket: a hit in the alarmed lane, the alarm as N42 XML, one critical alarm alert to the
entitled bureaus and an `alert_update` of the hit; the alarm API; adjudication and its audit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from failsafe.db.models import AuditLog
from tests import alarm_docs as docs
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import make_entry
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def next_of(
    ws: Any, want: str, alert_id: int | None = None, timeout: float = 10.0
) -> dict[str, Any]:
    """The next message of type `want` (of alert `alert_id`, if given), skipping others."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await recv_json(ws, timeout)
            got = msg.get("id", (msg.get("alert") or {}).get("id"))
            if msg["type"] == want and alert_id in (None, got):
                return msg


async def test_hit_then_n42_alarm_then_adjudication(app: RunningApp) -> None:
    entry = await make_entry(
        app.sessions, owner="FRA", document="753999001", action="locate_and_detain"
    )
    await app.follows(entry["id"], timeout=10)
    border = await make_token(app.sessions, "border", "DEU")
    border_pol = await make_token(app.sessions, "border", "POL")
    deu = await make_token(app.sessions, "bureau", "DEU")
    fra = await make_token(app.sessions, "bureau", "FRA")
    ita = await make_token(app.sessions, "bureau", "ITA")
    sockets = {}
    for name, tok in (("DEU", deu), ("FRA", fra), ("ITA", ita)):
        sockets[name] = await open_stream(app.ws_url(), tok, since=None)
        assert (await recv_json(sockets[name]))["type"] == "subscribed"

    point = "DEU-POL-A12"
    c = docs.crossing(
        point=point,
        lane="3",
        at=docs.T0 + timedelta(seconds=5),
        surname="PETROV",
        given_names="IVAN",
        document="753999001",
    )
    c["document"]["issuing_state"] = "RUS"
    bystander = docs.crossing(point=point, lane="4", at=docs.T0 + timedelta(seconds=6))
    async with httpx2.AsyncClient(base_url=app.http, timeout=20) as http:
        r = await http.post("/v1/events", json=[c, bystander], headers=bearer(border))
        assert r.status_code == 202, r.text
        assert len(r.json()["accepted"]) == 2
        hit = (await next_of(sockets["FRA"], "alert"))["alert"]
        assert (await next_of(sockets["DEU"], "alert"))["alert"]["id"] == hit["id"]
        assert hit["kind"] == "watchlist_hit" and hit["event"]["crossing"]["lane"] == "3"
        assert hit["event"]["crossing"]["vehicle"] == {"plate": "B-XY 1234"}

        # Bad documents: a clear 4xx, nothing stored.
        r = await http.post(
            "/v1/alarms",
            content=docs.XXE,
            headers={**bearer(border), "content-type": "application/xml"},
        )
        assert r.status_code == 422 and "forbidden XML construct" in r.text
        r = await http.post("/v1/alarms", content=docs.portal_snm("x"), headers=bearer(border_pol))
        assert r.status_code == 403  # another country's alarm
        r = await http.post("/v1/alarms", content=docs.portal_snm("y"), headers=bearer(deu))
        assert r.status_code == 403  # not a border system

        doc_id = "n42-e2e-0001"
        r = await http.post(
            "/v1/alarms",
            content=docs.portal_snm(doc_id, point=point, lane="3"),
            headers={**bearer(border), "content-type": "application/xml"},
        )
        assert r.status_code == 202, r.text
        assert r.json() == {"alarm_id": doc_id}  # the sender learns nothing of links or hits

        alarm_alert = (await next_of(sockets["DEU"], "alert"))["alert"]
        assert alarm_alert["kind"] == "radiation_alarm" and alarm_alert["severity"] == "critical"
        assert alarm_alert["recipients"] == ["DEU", "FRA"]
        assert {x["event_id"]: x["relation"] for x in alarm_alert["crossings"]} == {
            c["event_id"]: "same_lane",
            bystander["event_id"]: "adjacent_lane",
        }
        assert [h["alert_id"] for h in alarm_alert["hits"]] == [hit["id"]]
        assert (await next_of(sockets["FRA"], "alert"))["alert"]["id"] == alarm_alert["id"]
        update = await next_of(sockets["FRA"], "alert_update")
        assert update["id"] == hit["id"] and update["severity"] == "critical"
        assert update["alert"]["radiation"][0]["alarm_id"] == doc_id

        # The same document again: accepted, nothing new.
        r = await http.post(
            "/v1/alarms",
            content=docs.portal_snm(doc_id, point=point, lane="3"),
            headers=bearer(border),
        )
        assert r.status_code == 202

        r = await http.get(
            "/v1/alarms", params={"point": point, "category": "neutron"}, headers=bearer(deu)
        )
        assert [a["alarm_id"] for a in r.json()["items"]] == [doc_id]
        r = await http.get("/v1/alarms", params={"point": point, "lane": "7"}, headers=bearer(deu))
        assert r.json()["items"] == []
        r = await http.get(f"/v1/alarms/{doc_id}", headers=bearer(ita))
        assert r.status_code == 404  # not routed to ITA
        r = await http.get(f"/v1/alarms/{doc_id}", headers=bearer(border))
        assert r.status_code == 200 and r.json()["alert"] is None and r.json()["links"] == []
        detail = (await http.get(f"/v1/alarms/{doc_id}", headers=bearer(deu))).json()
        assert detail["alert"]["id"] == alarm_alert["id"] and len(detail["links"]) == 2

        # The alert API serves both kinds.
        r = await http.get(f"/v1/alerts/{alarm_alert['id']}", headers=bearer(fra))
        assert r.status_code == 200 and r.json()["kind"] == "radiation_alarm"
        r = await http.get("/v1/alerts", headers=bearer(deu))
        assert [(a["id"], a["kind"]) for a in r.json()["items"]] == [
            (alarm_alert["id"], "radiation_alarm"),
            (hit["id"], "watchlist_hit"),
        ]
        assert (
            await http.get(f"/v1/alerts/{alarm_alert['id']}", headers=bearer(ita))
        ).status_code == 404

        # Adjudication: FRA may not (the point's country decides); DEU's border system may.
        body = {
            "code": "contraband_found",
            "secondary": "completed",
            "isotopes": ["Pu-239"],
            "note": "shielded container in the spare wheel",
        }
        r = await http.post(f"/v1/alarms/{doc_id}/adjudications", json=body, headers=bearer(fra))
        assert r.status_code == 403
        r = await http.post(
            f"/v1/alarms/{doc_id}/adjudications", json={"code": "maybe"}, headers=bearer(deu)
        )
        assert r.status_code == 422
        r = await http.post(f"/v1/alarms/{doc_id}/adjudications", json=body, headers=bearer(border))
        assert r.status_code == 201, r.text
        confirmed = await next_of(sockets["DEU"], "alert_update", alarm_alert["id"])
        assert (confirmed["id"], confirmed["status"]) == (alarm_alert["id"], "confirmed")
        r = await http.get(
            "/v1/alarms", params={"adjudication": "contraband_found"}, headers=bearer(deu)
        )
        assert [a["alarm_id"] for a in r.json()["items"]] == [doc_id]
        r = await http.get(
            "/v1/alarms", params={"unadjudicated": "true", "point": point}, headers=bearer(deu)
        )
        assert r.json()["items"] == []
        detail = (await http.get(f"/v1/alarms/{doc_id}", headers=bearer(deu))).json()
        assert [a["code"] for a in detail["adjudications"]] == ["contraband_found"]
        assert detail["alert"]["status"] == "confirmed"

        # A NORM K-40 truck in lane 5, alone: low; adjudicated `norm`, its alert closes.
        k40 = "n42-e2e-k40"
        r = await http.post(
            "/v1/alarms",
            content=docs.norm_k40(k40, start=docs.T0 + timedelta(hours=1)),
            headers=bearer(border),
        )
        assert r.status_code == 202
        low = (await next_of(sockets["DEU"], "alert", alarm_alert["id"] + 1))["alert"]
        assert (low["severity"], low["crossings"], low["hits"]) == ("low", [], [])
        r = await http.post(
            f"/v1/alarms/{k40}/adjudications", json={"code": "norm"}, headers=bearer(deu)
        )
        assert r.status_code == 201
        closed = await next_of(sockets["DEU"], "alert_update", low["id"])
        assert (closed["id"], closed["status"]) == (low["id"], "closed")

    for ws in sockets.values():
        await ws.close()
    async with app.sessions() as session:
        audit = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "alarm.adjudicate").order_by(AuditLog.id)
            )
        )
    assert [(a.object_id, a.detail["code"]) for a in audit] == [
        (doc_id, "contraband_found"),
        (k40, "norm"),
    ]
    assert "spare wheel" not in str(audit[0].detail)  # the note stays out of the audit
