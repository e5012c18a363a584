"""Async factories for tests: watchlist entries and events shaped like the public contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import WatchlistEntry, WatchlistEntryVersion
from failsafe.watchlist.documents import row_values
from tests.conftest import personal_data


def entry_doc(
    surname: str,
    given_names: str,
    *,
    owner: str = "FRA",
    dob: str | None = None,
    documents: list[dict[str, str]] | None = None,
    notice_type: str = "green",
    action: str = "discreet_check",
    distribution: dict[str, Any] | None = None,
    entry_id: str | None = None,
) -> dict[str, Any]:
    personal_data(surname, given_names, *(d.get("number") for d in documents or []))
    return {
        "id": entry_id or f"e-{uuid.uuid4().hex[:12]}",
        "notice": {"type": notice_type, "reference": f"2026/{uuid.uuid4().hex[:8]}"},
        "owner_bureau": owner,
        "subject": {
            "surname": surname,
            "given_names": given_names,
            "date_of_birth": dob,
            "dates_of_birth": [dob] if dob else [],
            "documents": documents or [],
            "nationalities": [],
            "aliases": [],
        },
        "case": {"category": "nuclear_smuggling", "requested_action": action},
        "distribution": distribution or {"mode": "all", "allow": [], "deny": []},
        "status": "active",
    }


async def put_entry(
    sessions: async_sessionmaker[AsyncSession], doc: dict[str, Any], status: str = "active"
) -> dict[str, Any]:
    """Create or change an entry the way the watchlist service does: new version, next revision."""
    async with sessions() as session:
        row = await session.scalar(select(WatchlistEntry).where(WatchlistEntry.id == doc["id"]))
        now = utcnow()
        version = 1 if row is None else row.version + 1
        doc = {**doc, "status": status, "version": version}
        revision = await counters.next_value(session, counters.WATCHLIST_REVISION)
        if row is None:
            row = WatchlistEntry(id=doc["id"], created_at=now)
            session.add(row)
        doc = {**doc, "revision": revision, "updated_at": now.isoformat(), "updated_by": None}
        for column, value in row_values(doc).items():
            setattr(row, column, value)
        session.add(WatchlistEntryVersion(entry_id=doc["id"], version=version, revision=revision,
                                          change="create" if version == 1 else "update",
                                          status=status, document=doc, changed_at=now))
        await session.commit()
    return doc


def event(
    surname: str,
    given_names: str,
    *,
    dob: str | None = None,
    country: str = "DEU",
    direction: str = "entry",
    document: dict[str, str] | None = None,
    event_id: str | None = None,
    flight: dict[str, Any] | None = None,
) -> dict[str, Any]:
    personal_data(surname, given_names, (document or {}).get("number"))
    ev: dict[str, Any] = {
        "schema": "failsafe.event/v1",
        "event_id": event_id or f"ev-{uuid.uuid4().hex}",
        "kind": "travel_booking" if flight else "border_crossing",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "TEST",
        "country": country,
        "traveller": {"surname": surname, "given_names": given_names, "date_of_birth": dob},
    }
    if flight:
        ev["flight"] = flight
    else:
        ev["crossing"] = {"point": f"{country}-X", "mode": "air", "direction": direction}
    if document:
        ev["document"] = document
    return ev
