"""An alarm's alert and what it shows: the evidence gathered from the alarm's links (the linked
crossings, the watchlist hits among them that the crossing point's bureau is entitled to, the
recipients, the severity), the alert payload built from it, and the link this alarm adds to each
linked watchlist alert. It reads and changes objects of the caller's session; it never commits
(failsafe.alarms.correlation owns the transactions).

Invariants (the distribution rules, docs/alarms.md): a hit is shown in an alarm alert only when the
crossing point's bureau is entitled to its entry; a bureau the hit's routing adds must be entitled
to every hit the alert shows. A hit left out still gets the link on its own watchlist alert, and
weighs nothing in the alarm alert's severity. A watchlist alert's severity is only ever raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe import contract
from failsafe.alarms.rules import alarm_severity
from failsafe.alerts import routing
from failsafe.alerts.recorder import entry_summary
from failsafe.contract import EntryDoc
from failsafe.db.models import Alarm, AlarmLink, Alert, LaneCrossing, WatchlistEntry
from failsafe.settings import AlarmSettings

KIND = "radiation_alarm"
SEVERITIES = contract.SEVERITIES


def _crossing_view(row: LaneCrossing, link: AlarmLink) -> dict[str, Any]:
    event = row.event or {}
    crossing = event.get("crossing") or {}
    out = {
        "event_id": row.event_id,
        "occurred_at": row.occurred_at.isoformat(),
        "lane": row.lane,
        "relation": link.relation,
        "confidence": link.confidence,
        "direction": crossing.get("direction"),
        "traveller": event.get("traveller"),
        "document": event.get("document"),
        "vehicle": crossing.get("vehicle"),
    }
    return {k: v for k, v in out.items() if v is not None}


@dataclass
class Evidence:
    crossings: list[dict[str, Any]]
    hits: list[dict[str, Any]]  # shown in the alarm alert
    hit_alerts: list[Alert]  # every watchlist alert on a linked crossing (shown or not)
    recipients: list[str]
    severity: str


async def gather_evidence(
    session: AsyncSession, alarm_row: Alarm, settings: AlarmSettings
) -> Evidence:
    alarm = alarm_row.document
    rows = (
        await session.execute(
            select(AlarmLink, LaneCrossing)
            .join(LaneCrossing, LaneCrossing.event_id == AlarmLink.event_id)
            .where(AlarmLink.alarm_pk == alarm_row.id)
            .order_by(LaneCrossing.occurred_at, LaneCrossing.event_id)
        )
    ).all()
    crossings = [_crossing_view(c, link) for link, c in rows]
    event_ids = [c.event_id for _, c in rows]
    hit_alerts = (
        list(
            (
                await session.scalars(
                    select(Alert)
                    .where(Alert.kind == "watchlist_hit", Alert.event_id.in_(event_ids))
                    .order_by(Alert.id)
                )
            ).all()
        )
        if event_ids
        else []
    )
    entries = {
        e.id: e.document
        for e in (
            await session.scalars(
                select(WatchlistEntry).where(
                    WatchlistEntry.id.in_({a.entry_id for a in hit_alerts if a.entry_id})
                )
            )
        ).all()
    }
    point_bureau = alarm_row.country
    shown: list[tuple[Alert, dict[str, Any]]] = []
    for a in hit_alerts:
        if a.status in ("false_positive", "withdrawn"):
            continue
        entry = entries.get(a.entry_id or "")
        if entry is None:
            continue
        if point_bureau in routing.apply_distribution(entry, {point_bureau}):
            shown.append((a, entry))
    recipients = {point_bureau}
    for a, entry in shown:
        for bureau in routing.recipients(entry, (a.payload or {}).get("event") or {}):
            if all(bureau in routing.apply_distribution(e, {bureau}) for _, e in shown):
                recipients.add(bureau)
    confidence = {c["event_id"]: c.get("confidence") for c in crossings}
    hits = [
        {
            "alert_id": a.id,
            "event_id": a.event_id,
            "score": a.score,
            "confidence": confidence.get(a.event_id),
            "case_category": (entry.get("case") or {}).get("category"),
            # A stored entry document: contract JSON, validated when it was written (EntryIn).
            "entry": entry_summary(cast(EntryDoc, entry)),
        }
        for a, entry in shown
    ]
    categories: list[str | None] = [(e.get("case") or {}).get("category") for _, e in shown]
    severity = alarm_severity(alarm, categories, settings)
    return Evidence(crossings, hits, hit_alerts, sorted(recipients), severity)


def alarm_payload(
    alarm_row: Alarm, alert_id: int, created_at: datetime, ev: Evidence
) -> dict[str, Any]:
    alarm = alarm_row.document
    return {
        "id": alert_id,
        "created_at": created_at.isoformat(),
        "status": "new",
        "kind": KIND,
        "severity": ev.severity,
        # Not a name-matching score: a measured alarm is certain; score filters keep it.
        "score": 1.0,
        "method": "radiation",
        "recipients": ev.recipients,
        "entry": {},
        "event": {
            "event_id": f"alarm:{alarm_row.alarm_id}",
            "kind": KIND,
            "occurred_at": alarm["occurred_at"],
            "country": alarm_row.country,
            "crossing": {"point": alarm_row.point, "lane": alarm_row.lane},
        },
        "explanation": [],
        "alarm": alarm,
        "crossings": ev.crossings,
        "hits": ev.hits,
    }


def raise_severity(current: str, to: str) -> str:
    return max(current, to, key=SEVERITIES.index)


def link_hit_alerts(
    alarm_row: Alarm, alarm_alert: Alert, ev: Evidence, now: datetime
) -> list[Alert]:
    """Add this alarm to each linked watchlist alert that does not carry it yet."""
    changed = []
    confidence = {c["event_id"]: (c.get("confidence"), c.get("relation")) for c in ev.crossings}
    for a in ev.hit_alerts:
        payload = dict(a.payload or {})
        links = list(payload.get("radiation") or [])
        if any(link.get("alarm_id") == alarm_row.alarm_id for link in links):
            continue
        conf, relation = confidence.get(a.event_id, (None, None))
        links.append(
            {
                "alarm_id": alarm_row.alarm_id,
                "alert_id": alarm_alert.id,
                "point": alarm_row.point,
                "lane": alarm_row.lane,
                "categories": alarm_row.document.get("categories") or [],
                "nuclides": alarm_row.document.get("nuclides") or [],
                "relation": relation,
                "confidence": conf,
            }
        )
        payload["radiation"] = links
        raised = raise_severity(a.severity, alarm_alert.severity)
        payload["severity"] = raised
        a.payload = payload
        a.severity = raised
        a.updated_at = now
        changed.append(a)
    return changed
