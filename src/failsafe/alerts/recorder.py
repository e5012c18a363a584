"""Turning screening hits into sightings and alerts, in one transaction, idempotently.

Invariants (docs/contracts.md "Delivery guarantees"):
- one sighting per event (unique event_id) and one alert per (event_id, entry_id): a replayed
  batch creates nothing new and returns the alerts that already exist, so they are published again;
- alert ids come from the commit-ordered counter, taken last in the transaction, so ids become
  visible in increasing order with no gaps (the websocket resume cursor relies on it);
- a traveller dismissed as false_positive for an entry does not alert again for that entry;
- an entry no longer active in the database raises no new alert (the matcher may lag a change);
- non-matching events are never stored (data minimisation): this module only sees hits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alerts import routing
from failsafe.alerts.views import alert_view
from failsafe.contract import AlertView, EntryDoc, EntrySummary, EventDoc
from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import Alert, AlertRecipient, Sighting, WatchlistEntry

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


@dataclass(frozen=True)
class Hit:
    """One screening match of an event against a watchlist entry, ready to record."""

    event: EventDoc  # the validated event (contract JSON, MRZ applied)
    entry: EntryDoc  # the entry's contract JSON as the matcher knew it (id, version, ...)
    score: float
    method: str
    explanation: list[dict[str, Any]]
    quality_flags: list[str] = field(default_factory=list)


def _norm(value: Any) -> str:
    return _NON_ALNUM.sub("", str(value or "").upper())


def traveller_key(event: EventDoc) -> str:
    """A stable pseudonymous identity: the document if there is one, else name and birth date."""
    doc = event.get("document") or {}
    if doc.get("number"):
        basis = f"doc|{_norm(doc.get('issuing_state'))}|{_norm(doc['number'])}"
    else:
        t = event.get("traveller") or {}
        name = t.get("full_name") or f"{t.get('given_names') or ''} {t.get('surname') or ''}"
        tokens = sorted(_norm(tok) for tok in str(name).split() if _norm(tok))
        basis = f"name|{' '.join(tokens)}|{t.get('date_of_birth') or ''}"
    return hashlib.sha256(basis.encode()).hexdigest()


def subject_name(entry: EntryDoc) -> str:
    subject = entry.get("subject") or {}
    if subject.get("full_name"):
        return str(subject["full_name"])
    return " ".join(p for p in (subject.get("given_names"), subject.get("surname")) if p)


def entry_summary(entry: EntryDoc) -> EntrySummary:
    return {
        "id": entry["id"],
        "version": entry.get("version", 1),
        "notice": entry.get("notice") or {},
        "owner_bureau": entry["owner_bureau"],
        "requested_action": (entry.get("case") or {}).get("requested_action"),
        "subject_name": subject_name(entry),
    }


def event_summary(event: EventDoc) -> dict[str, Any]:
    keys = (
        "event_id",
        "kind",
        "occurred_at",
        "source",
        "country",
        "crossing",
        "flight",
        "traveller",
        "document",
    )
    fields: Mapping[str, Any] = event  # read by name from a list: the keys are not literals
    return {k: fields[k] for k in keys if fields.get(k) is not None}


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _occurred_at(event: EventDoc) -> datetime:
    value = event["occurred_at"]
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


async def _record_once(
    session: AsyncSession, hits: Sequence[Hit]
) -> tuple[list[AlertView], int]:
    events: dict[str, tuple[EventDoc, list[str]]] = {}
    for hit in hits:
        events.setdefault(hit.event["event_id"], (hit.event, hit.quality_flags))
    now = utcnow()
    rows = []
    for event_id, (event, flags) in events.items():
        crossing = event.get("crossing") or {}
        rows.append(
            {
                "event_id": event_id,
                "kind": event["kind"],
                "occurred_at": _occurred_at(event),
                "source": event.get("source"),
                "country": event.get("country"),
                "direction": crossing.get("direction")
                or ("exit" if event["kind"] == "travel_booking" else None),
                "place": crossing.get("point") or (event.get("flight") or {}).get("origin"),
                "route_countries": routing.route_countries(event),
                "event": event,
                "quality_flags": flags,
                "created_at": now,
            }
        )
    await session.execute(
        _insert(session, Sighting).values(rows).on_conflict_do_nothing(index_elements=["event_id"])
    )
    sighting_rows = await session.execute(
        select(Sighting.event_id, Sighting.id).where(Sighting.event_id.in_(list(events)))
    )
    sighting_ids = {event_id: sid for event_id, sid in sighting_rows}

    existing = {
        (a.event_id, a.entry_id): a
        for a in (
            await session.execute(select(Alert).where(Alert.event_id.in_(list(events))))
        ).scalars()
    }
    keyed = [(hit, traveller_key(hit.event)) for hit in hits]
    dismissed_rows = await session.execute(
        select(Alert.entry_id, Alert.traveller_key).where(
            Alert.status == "false_positive",
            Alert.entry_id.in_({h.entry["id"] for h in hits}),
            Alert.traveller_key.in_({k for _, k in keyed}),
        )
    )
    dismissed = {(entry_id, key) for entry_id, key in dismissed_rows}

    # An entry cancelled after this process screened against it (its follower lags by up to a
    # poll interval) must not raise a new alert: its open alerts are being withdrawn.
    live = set(
        await session.scalars(
            select(WatchlistEntry.id).where(
                WatchlistEntry.id.in_({h.entry["id"] for h in hits}),
                WatchlistEntry.status == "active",
            )
        )
    )

    out: list[AlertView] = []
    fresh: list[tuple[Hit, str]] = []
    seen: set[tuple[str, str]] = set()
    for hit, key in keyed:
        pair = (hit.event["event_id"], hit.entry["id"])
        if pair in seen:
            continue
        seen.add(pair)
        if pair in existing:
            out.append(alert_view(existing[pair]))
        elif (hit.entry["id"], key) not in dismissed and hit.entry["id"] in live:
            fresh.append((hit, key))
    if fresh:
        # Taken last: the counter's row lock orders committing writers (failsafe.db.counters).
        last = await counters.next_value(session, counters.ALERT_ID, len(fresh))
        for offset, (hit, key) in enumerate(fresh):
            alert_id = last - len(fresh) + 1 + offset
            entry = hit.entry
            notice = entry.get("notice") or {}
            action = (entry.get("case") or {}).get("requested_action")
            to = routing.recipients(entry, hit.event)
            payload: AlertView = {
                "id": alert_id,
                "created_at": now.isoformat(),
                "status": "new",
                "severity": routing.severity(
                    notice.get("type"),
                    action,
                    hit.score,
                    routing.dob_agreement(hit.explanation),
                ),
                "score": round(hit.score, 4),
                "method": hit.method,
                "recipients": to,
                "entry": entry_summary(entry),
                "event": event_summary(hit.event),
                "explanation": hit.explanation,
                "quality_flags": hit.quality_flags,
            }
            alert = Alert(
                id=alert_id,
                event_id=hit.event["event_id"],
                entry_id=entry["id"],
                entry_version=int(entry.get("version", 1)),
                sighting_id=sighting_ids[hit.event["event_id"]],
                status="new",
                severity=payload["severity"],
                score=payload["score"],
                method=hit.method,
                notice_type=str(notice.get("type", "")),
                owner_bureau=entry["owner_bureau"],
                recipients=to,
                traveller_key=key,
                payload=payload,
                created_at=now,
                updated_at=now,
            )
            session.add(alert)
            session.add_all(AlertRecipient(bureau_code=b, alert_id=alert_id) for b in to)
            out.append(alert_view(alert))
    await session.commit()
    out.sort(key=lambda a: a["id"])
    return out, len(fresh)


async def record_hits(
    sessions: async_sessionmaker[AsyncSession], hits: Sequence[Hit]
) -> tuple[list[AlertView], int]:
    """Persist hits; return every alert they correspond to (new or already existing), by id,
    and how many of them are new."""
    if not hits:
        return [], 0
    for attempt in range(3):
        async with sessions() as session:
            try:
                return await _record_once(session, hits)
            except IntegrityError:
                # Another worker recorded some of these concurrently (a rebalance replay): the
                # next attempt finds them as existing.
                await session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")
