"""Where radiation alarms meet lane crossings: in PostgreSQL, never in one process's memory.

An alarm links to the crossings at its point whose `occurred_at` lies in its occupancy window
widened by the tolerance (settings `alarms`), in the same lane (confidence 1.0 inside the
occupancy, `margin_confidence` in the widened margin) or an adjacent one (times
`adjacent_factor`). Either side may come first, late, twice, or on another worker process.
This module owns the transactions (storing, linking, committing); the rules are
failsafe.alarms.rules (pure), the alarm alert built from the links is failsafe.alarms.evidence.

Invariants:
- The meeting is serialised per crossing point by a transaction-scoped advisory lock (points
  in sorted order: no deadlock). An alarm is inserted and looks for crossings in one
  transaction holding its point's lock. Crossings are first inserted and committed (the bulk
  of the work, without locks), then look for alarms in a second, short transaction holding
  the locks. Whichever search takes the lock second sees the other side committed: the alarm's
  transaction commits before it releases the lock, and the crossings were committed before
  their search took it. So an alarm and a crossing that arrive together on two processes still
  meet. (SQLite, the embedded mode, has a single writer: no lock needed.)
- Exactly once: an alarm row per `alarm_id` and a lane crossing per `event_id` (INSERT ... ON
  CONFLICT DO NOTHING), a link per (alarm, event) (primary key, ON CONFLICT DO NOTHING), and one
  alert per alarm, created in the transaction that inserted the alarm (a unique partial index on
  radiation alerts' `event_id` backs it). A redelivered alarm creates nothing and returns its
  existing alert to be published again (publication is at-least-once; the hub de-duplicates).
- New links refresh the alarm's alert (crossings, hits, severity, recipients) and add the link
  to each linked watchlist alert (severity raised to the alarm's), with a newer `updated_at`:
  the hub sends `alert_update`, never a second alert.
- Distribution rules hold: a hit enters an alarm alert only when the crossing point's bureau is
  entitled to its entry; a bureau the hit's routing adds must be entitled to every hit the alert
  shows. A hit left out still gets the link on its own watchlist alert (which only entitled
  bureaus receive), and weighs nothing in the alarm alert's severity.
- Data minimisation: a lane crossing that is neither a hit nor linked is deleted once its
  `purge_after` (received + lateness) has passed (`purge_expired`).
"""


import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alarms.evidence import (
    KIND,
    alarm_payload,
    gather_evidence,
    link_hit_alerts,
    raise_severity,
)
from failsafe.alarms.rules import Rules, instant
from failsafe.alerts.views import alert_view
from failsafe.contract import AlertView
from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import Alarm, AlarmLink, Alert, AlertRecipient, LaneCrossing
from failsafe.settings import AlarmSettings


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


async def _lock_points(session: AsyncSession, points: Iterable[str]) -> None:
    """Serialise, per crossing point, the transactions that record and correlate (see above)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(
        int.from_bytes(hashlib.sha256(f"alarm-point|{p}".encode()).digest()[:8], "big") - 2**63
        for p in set(points)
    )
    # One round trip; taken in key order by every caller, so two batches never deadlock.
    await session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS ordered"
        ),
        {"keys": keys},
    )


async def _add_recipients(session: AsyncSession, alert_id: int, bureaus: Iterable[str]) -> None:
    rows = [{"bureau_code": b, "alert_id": alert_id} for b in bureaus]
    if rows:
        await session.execute(
            _insert(session, AlertRecipient).values(rows).on_conflict_do_nothing()
        )


async def _insert_links(
    session: AsyncSession, links: list[dict[str, Any]]
) -> list[tuple[int, str]]:
    if not links:
        return []
    # executemany (SQLAlchemy's insertmanyvalues batches it): a multi-row .values() would be
    # compiled afresh for every batch, which costs more than the database work.
    conn = await session.connection()
    result = await conn.execute(
        _insert(session, AlarmLink)
        .on_conflict_do_nothing()
        .returning(AlarmLink.alarm_pk, AlarmLink.event_id),
        links,
    )
    return [(int(pk), str(eid)) for pk, eid in result.all()]


@dataclass
class Recorded:
    """What a recording produced: alerts to publish (after commit), and what was new."""

    alerts: list[AlertView]
    new_alarm: bool = False
    new_links: int = 0
    alert_created: bool = False


async def record_alarm(
    sessions: async_sessionmaker[AsyncSession], alarm: dict[str, Any], settings: AlarmSettings
) -> Recorded:
    """Store one validated alarm (contract JSON), link it to the crossings already recorded,
    create its alert and update the linked watchlist alerts; commit. A redelivery returns the
    existing alert."""
    rules = Rules(settings)
    start, end = rules.window(alarm)
    now = utcnow()
    async with sessions() as session:
        await _lock_points(session, [alarm["point"]])
        inserted = await session.scalar(
            _insert(session, Alarm)
            .values(
                alarm_id=alarm["alarm_id"],
                occurred_at=instant(alarm["occurred_at"]),
                country=alarm["country"],
                point=alarm["point"],
                lane=alarm.get("lane"),
                window_start=start,
                window_end=end,
                categories=" " + " ".join(alarm.get("categories") or []) + " ",
                document=alarm,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["alarm_id"])
            .returning(Alarm.id)
        )
        if inserted is None:
            existing = await session.scalar(
                select(Alert)
                .join(Alarm, Alarm.alert_id == Alert.id)
                .where(Alarm.alarm_id == alarm["alarm_id"])
            )
            await session.commit()
            return Recorded([alert_view(existing)] if existing is not None else [])
        alarm_row = await session.get_one(Alarm, inserted)
        q = select(LaneCrossing).where(
            LaneCrossing.point == alarm["point"],
            LaneCrossing.occurred_at >= start,
            LaneCrossing.occurred_at <= end,
        )
        links = []
        for c in (await session.scalars(q)).all():
            found = rules.link(alarm, c.lane, c.occurred_at)
            if found is not None:
                links.append(
                    {
                        "alarm_pk": alarm_row.id,
                        "event_id": c.event_id,
                        "relation": found[0],
                        "confidence": found[1],
                        "created_at": now,
                    }
                )
        new_links = await _insert_links(session, links)
        ev = await gather_evidence(session, alarm_row, settings)
        # Taken last: the counter's row lock orders committing writers (failsafe.db.counters).
        alert_id = await counters.next_value(session, counters.ALERT_ID, 1)
        payload = alarm_payload(alarm_row, alert_id, now, ev)
        alert = Alert(
            id=alert_id,
            kind=KIND,
            event_id=f"alarm:{alarm_row.alarm_id}",
            entry_id=None,
            entry_version=0,
            sighting_id=None,
            status="new",
            severity=ev.severity,
            score=1.0,
            method="radiation",
            notice_type="",
            owner_bureau=alarm_row.country,
            recipients=ev.recipients,
            traveller_key="",
            payload=payload,
            created_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.add_all(AlertRecipient(bureau_code=b, alert_id=alert_id) for b in ev.recipients)
        alarm_row.alert_id = alert_id
        changed = link_hit_alerts(alarm_row, alert, ev, now)
        await session.commit()
        out = [alert_view(alert), *(alert_view(a) for a in changed)]
        return Recorded(out, new_alarm=True, new_links=len(new_links), alert_created=True)


async def record_crossings(
    sessions: async_sessionmaker[AsyncSession],
    events: Sequence[dict[str, Any]],
    hit_event_ids: set[str],
    settings: AlarmSettings,
) -> Recorded:
    """Store the lane crossings among `events` (border crossings with a point and a lane), link
    them to the alarms already recorded, refresh those alarms' alerts; commit."""
    rules = Rules(settings)
    now = utcnow()
    purge_after = now + timedelta(seconds=settings.lateness_s)
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        crossing = event.get("crossing") or {}
        if event.get("kind") != "border_crossing" or not crossing.get("point"):
            continue
        if not crossing.get("lane"):
            continue
        rows[event["event_id"]] = {
            "event_id": event["event_id"],
            "point": crossing["point"],
            "lane": crossing["lane"],
            "occurred_at": instant(event["occurred_at"]),
            "country": event.get("country"),
            "hit": event["event_id"] in hit_event_ids,
            "event": event,
            "purge_after": purge_after,
            "received_at": now,
        }
    if not rows:
        return Recorded([])
    # 1. Store, committed, without the point locks: the bulk of the work holds up no alarm.
    async with sessions() as session:
        conn = await session.connection()
        await conn.execute(
            _insert(session, LaneCrossing).on_conflict_do_nothing(index_elements=["event_id"]),
            list(rows.values()),
        )
        hits = [eid for eid in rows if eid in hit_event_ids]
        if hits:
            await session.execute(
                update(LaneCrossing).where(LaneCrossing.event_id.in_(hits)).values(hit=True)
            )
        await session.commit()
    # 2. Meet, under the point locks. Every crossing of the batch looks (not only the new ones:
    # a replay after a crash between 1 and 2 must still link); links are idempotent.
    fresh = list(rows.values())
    async with sessions() as session:
        points = {r["point"] for r in fresh}
        await _lock_points(session, points)
        t_min = min(r["occurred_at"] for r in fresh)
        t_max = max(r["occurred_at"] for r in fresh)
        alarms = (
            await session.scalars(
                select(Alarm).where(
                    Alarm.point.in_(points),
                    Alarm.window_start <= t_max,
                    Alarm.window_end >= t_min,
                )
            )
        ).all()
        links = []
        for alarm_row in alarms:
            for r in fresh:
                if r["point"] != alarm_row.point:
                    continue
                found = rules.link(alarm_row.document, r["lane"], r["occurred_at"])
                if found is not None:
                    links.append(
                        {
                            "alarm_pk": alarm_row.id,
                            "event_id": r["event_id"],
                            "relation": found[0],
                            "confidence": found[1],
                            "created_at": now,
                        }
                    )
        new_links = await _insert_links(session, links)
        touched = sorted({pk for pk, _ in new_links})
        changed: dict[int, Alert] = {}
        for pk in touched:
            alarm_row = await session.get_one(Alarm, pk)
            if alarm_row.alert_id is None:
                continue
            alert = await session.get_one(Alert, alarm_row.alert_id, with_for_update=True)
            ev = await gather_evidence(session, alarm_row, settings)
            payload = alarm_payload(alarm_row, alert.id, alert.created_at, ev)
            payload["status"] = alert.status
            # Recipients only grow: a bureau that received the alert keeps it.
            recipients = sorted(set(alert.recipients or []) | set(ev.recipients))
            payload["recipients"] = recipients
            payload["severity"] = raise_severity(alert.severity, ev.severity)
            alert.payload = payload
            alert.severity = payload["severity"]
            alert.recipients = recipients
            alert.updated_at = now
            await _add_recipients(session, alert.id, recipients)
            changed[alert.id] = alert
            for a in link_hit_alerts(alarm_row, alert, ev, now):
                changed[a.id] = a
        await session.commit()
        return Recorded(
            [alert_view(a) for _, a in sorted(changed.items())], new_links=len(new_links)
        )


async def purge_expired(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete the lane crossings past their `purge_after` that are neither a hit nor linked to
    an alarm; commit; return how many."""
    now = now or utcnow()
    linked = exists().where(AlarmLink.event_id == LaneCrossing.event_id)
    result = await session.execute(
        delete(LaneCrossing)
        .where(LaneCrossing.purge_after < now, LaneCrossing.hit.is_(False), ~linked)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def count_crossings(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(LaneCrossing)) or 0)
