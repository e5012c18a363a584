"""Named officers on real PostgreSQL: created by admins or by their bureau's own desk (never for
another bureau, never as admins), with tokens of their own; they see what their bureau sees,
and the alert history and the audit log name them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from failsafe.db.models import AuditLog
from tests.fixtures.app import api_client, auth
from tests.fixtures.factories import event, make_entry
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration


async def test_officers_are_created_by_admins_or_their_bureau_desk(pg_url: str) -> None:
    async with api_client(pg_url) as api:
        c = api.client
        admin = await api.principal("admin")
        fra_desk = await api.principal("bureau", "FRA")
        fra_border = await api.principal("border", "FRA")

        by_admin = await c.post(
            "/v1/principals/officers",
            json={"bureau": "DEU", "name": "Officer Schmidt"},
            headers=auth(admin),
        )
        assert by_admin.status_code == 201, by_admin.text
        assert by_admin.json()["kind"] == "officer"
        assert (by_admin.json()["role"], by_admin.json()["bureau_code"]) == ("bureau", "DEU")

        by_desk = await c.post(
            "/v1/principals/officers",
            json={"bureau": "FRA", "name": "Claire Dupont", "role": "analyst"},
            headers=auth(fra_desk),
        )
        assert by_desk.status_code == 201, by_desk.text
        officer = by_desk.json()
        assert officer["created_by"] != officer["id"] and officer["token"].startswith("fs_")
        me = (await c.get("/v1/principals/me", headers=auth(officer["token"]))).json()
        assert (me["name"], me["kind"], me["bureau_code"]) == ("Claire Dupont", "officer", "FRA")

        other_bureau = await c.post(
            "/v1/principals/officers",
            json={"bureau": "DEU", "name": "Intruder"},
            headers=auth(fra_desk),
        )
        assert other_bureau.status_code == 403
        not_a_desk = await c.post(
            "/v1/principals/officers",
            json={"bureau": "FRA", "name": "Intruder"},
            headers=auth(fra_border),
        )
        assert not_a_desk.status_code == 403
        as_admin = await c.post(
            "/v1/principals/officers",
            json={"bureau": "FRA", "name": "Intruder", "role": "admin"},
            headers=auth(admin),
        )
        assert as_admin.status_code == 400


async def test_officer_sees_the_bureau_alerts_and_history_names_them(fresh_pg_url: str) -> None:
    # A database of its own: exactly one alert, whatever other tests left in the shared one.
    async with api_client(fresh_pg_url) as api:
        c = api.client
        desk = await api.principal("bureau", "FRA")
        created = await c.post(
            "/v1/principals/officers",
            json={"bureau": "FRA", "name": "Claire Dupont"},
            headers=auth(desk),
        )
        officer = created.json()
        await api.ready()
        entry = await make_entry(api.sessions, owner="FRA")
        await api.follows(entry["id"])
        hit = event("PETROV", "IVAN", dob="1970-03-14", country="FRA")
        sent = await c.post("/v1/events", json=[hit], headers=await api.headers("border", "FRA"))
        assert sent.status_code == 202

        async def officer_sees_it() -> bool:
            page = await c.get("/v1/alerts", headers=auth(officer["token"]))
            return page.status_code == 200 and len(page.json()["items"]) == 1

        await eventually(officer_sees_it, what="the officer sees the bureau's alert")
        listed_alerts = await c.get("/v1/alerts", headers=auth(officer["token"]))
        alert_id = listed_alerts.json()["items"][0]["id"]
        moved = await c.post(
            f"/v1/alerts/{alert_id}/transitions",
            json={"status": "acknowledged"},
            headers=auth(officer["token"]),
        )
        assert moved.status_code == 200, moved.text
        history = (await c.get(f"/v1/alerts/{alert_id}", headers=auth(desk))).json()
        last = history["transitions"][-1]
        assert (last["principal_id"], last["principal_name"]) == (officer["id"], "Claire Dupont")
        listed = (await c.get(f"/v1/alerts/{alert_id}/transitions", headers=auth(desk))).json()
        assert listed[-1]["principal_name"] == "Claire Dupont"

        async with api.sessions() as s:
            actors = (
                await s.scalars(
                    select(AuditLog.principal_id).where(AuditLog.object_id == str(alert_id))
                )
            ).all()
        assert officer["id"] in actors
