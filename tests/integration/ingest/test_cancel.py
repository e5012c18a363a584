"""Cancelling an entry through the API withdraws its open alerts (with an audited transition and
an update on the bus) and stops it matching; a closed alert keeps its status."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from failsafe.db.models import Alert, AlertTransition
from failsafe.ingest.service import ScreeningService
from failsafe.settings import DatabaseSettings, Settings
from tests.apptools import running, token, wait_ready
from tests.factories import event

pytestmark = pytest.mark.integration

ENTRY = {
    "notice": {"type": "green", "reference": "2026/777-G"},
    "owner_bureau": "FRA",
    "subject": {"surname": "ROSSETTI", "given_names": "LUCA", "date_of_birth": "1975-05-05"},
    "case": {"category": "nuclear_smuggling", "requested_action": "discreet_check"},
}


async def test_cancel_withdraws_open_alerts_and_stops_matching(fresh_pg_url: str) -> None:
    settings = Settings(database=DatabaseSettings(url=fresh_pg_url, auto_migrate=False))
    async with running(settings) as (client, state):
        await wait_ready(state)
        analyst = await token(state, "analyst", "FRA")
        border = await token(state, "border", "ITA")
        created = await client.post("/v1/watchlist", json=ENTRY, headers=analyst)
        assert created.status_code == 201, created.text
        entry_id = created.json()["id"]
        screening = state.services.get(ScreeningService)
        async with asyncio.timeout(5):
            while entry_id not in screening.follower.entries:
                await asyncio.sleep(0.05)
        for _ in range(2):
            ev = event("ROSSETTI", "LUCA", dob="1975-05-05", country="ITA")
            assert (await client.post("/v1/events", json=ev, headers=border)).status_code == 202
        async with state.sessionmaker() as s:
            alerts = list((await s.execute(select(Alert).order_by(Alert.id))).scalars())
            assert [a.status for a in alerts] == ["new", "new"]
            alerts[1].status = "closed"  # a finished case is history, not withdrawn
            await s.commit()

        updates: list[dict[str, Any]] = []

        async def listen() -> None:
            async for alert in state.bus.subscribe():
                updates.append(alert)
                return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0)
        cancelled = await client.post(f"/v1/watchlist/{entry_id}/cancel", json={}, headers=analyst)
        assert cancelled.status_code == 200, cancelled.text
        await asyncio.wait_for(listener, 5)
        assert (updates[0]["id"], updates[0]["status"]) == (alerts[0].id, "withdrawn")
        async with state.sessionmaker() as s:
            statuses = [
                a.status for a in (await s.execute(select(Alert).order_by(Alert.id))).scalars()
            ]
            transitions = list((await s.execute(select(AlertTransition))).scalars())
        assert statuses == ["withdrawn", "closed"]
        assert [(t.alert_id, t.to_status) for t in transitions] == [(alerts[0].id, "withdrawn")]

        async with asyncio.timeout(5):
            while entry_id in screening.follower.entries:
                await asyncio.sleep(0.05)
        ev = event("ROSSETTI", "LUCA", dob="1975-05-05", country="ITA")
        assert (await client.post("/v1/events", json=ev, headers=border)).status_code == 202
        async with state.sessionmaker() as s:
            assert len(list((await s.execute(select(Alert))).scalars())) == 2
