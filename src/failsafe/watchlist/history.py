"""An entry's version history and movement timeline (its sightings), read and audited.

Both answer 404 for an entry the caller may not see (failsafe.watchlist.policy). The timeline
shows another bureau only the sightings whose alerts were routed to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.db.models import Alert, AlertRecipient, Sighting, WatchlistEntryVersion
from failsafe.watchlist.policy import visible_entry
from failsafe.watchlist.service import OBJECT_TYPE

MAX_TIMELINE = 1000


async def entry_versions(
    session: AsyncSession, actor: Actor, entry_id: str, *, after_version: int, limit: int
) -> tuple[list[WatchlistEntryVersion], bool]:
    await visible_entry(session, actor, entry_id)
    rows = (
        await session.scalars(
            select(WatchlistEntryVersion)
            .where(
                WatchlistEntryVersion.entry_id == entry_id,
                WatchlistEntryVersion.version > after_version,
            )
            .order_by(WatchlistEntryVersion.version)
            .limit(limit + 1)
        )
    ).all()
    page = list(rows[:limit])
    audit.record(
        session,
        actor,
        "watchlist.versions",
        OBJECT_TYPE,
        entry_id,
        {"versions": [v.version for v in page]},
    )
    await session.commit()
    return page, len(rows) > limit


@dataclass
class TimelineResult:
    rows: list[tuple[Alert, Sighting]] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


async def entry_sightings(session: AsyncSession, actor: Actor, entry_id: str) -> TimelineResult:
    """Sightings of the entry in time order and the path of countries they trace.

    The owner bureau and admins see every sighting; another bureau that may see the entry sees
    the sightings whose alerts were routed to it (what it was entitled to receive anyway)."""
    row = await visible_entry(session, actor, entry_id)
    query = (
        select(Alert, Sighting)
        .join(Sighting, Alert.sighting_id == Sighting.id)
        .where(Alert.entry_id == entry_id)
        .order_by(Sighting.occurred_at, Alert.id)
        .limit(MAX_TIMELINE)
    )
    if not actor.is_admin and actor.bureau_code != row.owner_bureau:
        query = query.where(
            select(AlertRecipient.alert_id)
            .where(
                AlertRecipient.alert_id == Alert.id,
                AlertRecipient.bureau_code == actor.bureau_code,
            )
            .exists()
        )
    result = TimelineResult(rows=[(a, s) for a, s in (await session.execute(query)).all()])
    for _alert, sighting in result.rows:
        for country in sighting.route_countries or ([sighting.country] if sighting.country else []):
            if not result.countries or result.countries[-1] != country:
                result.countries.append(country)
    audit.record(
        session,
        actor,
        "watchlist.sightings",
        OBJECT_TYPE,
        entry_id,
        {"alerts": [a.id for a, _ in result.rows]},
    )
    await session.commit()
    return result
