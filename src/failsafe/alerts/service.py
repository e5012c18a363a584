"""The alert lifecycle and who may see and triage what: list, get, transitions, acks, timelines,
and the withdrawal of open alerts when their watchlist entry is cancelled.

Who (docs/contracts.md "Alert"; the decisions the contract leaves open are marked *):
- admin: every alert, every (manual) transition.
- bureau and analyst principals: the alerts routed to their bureau, and every alert on entries
  their bureau owns; they triage those alerts (* analysts are the same bureau's staff, and the
  owner bureau is the one that decides whether a hit is its subject).
- border principals: no access (* a sending system must never learn that a traveller is on the
  watchlist; POST /v1/events says nothing about matches for the same reason).
- An alert the caller may not see answers 404, as if it did not exist.

Lifecycle: new -> acknowledged -> in_review -> confirmed | false_positive; confirmed ->
action_reported -> closed; withdrawn when the entry is cancelled (only through
`withdraw_open_alerts`; * alerts still open then are new, acknowledged, in_review and confirmed:
nobody should act on a confirmed hit of a cancelled notice; action_reported and the terminal
states stay as they are). Every transition writes an AlertTransition row (who, when, note) and an
audit row, commits, and only then is published on the alert bus so that every replica's hub sends
`alert_update` to its sockets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts import places
from failsafe.alerts.schemas import TimelinePointOut
from failsafe.alerts.views import alert_view
from failsafe.db.base import utcnow
from failsafe.db.models import (
    ALERT_STATUSES,
    Alert,
    AlertAck,
    AlertRecipient,
    AlertTransition,
    Sighting,
)
from failsafe.errors import Conflict, Forbidden, NotFound
from failsafe.kit.bus import AlertBus
from failsafe.settings import GeoPoint

log = logging.getLogger(__name__)

OBJECT_TYPE = "alert"
READ_ROLES = frozenset({"admin", "bureau", "analyst"})
TRIAGE_ROLES = READ_ROLES

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"in_review"}),
    "in_review": frozenset({"confirmed", "false_positive"}),
    "confirmed": frozenset({"action_reported"}),
    "action_reported": frozenset({"closed"}),
}
OPEN_STATUSES = ("new", "acknowledged", "in_review", "confirmed")
assert set(TRANSITIONS) | {"false_positive", "closed", "withdrawn"} == set(ALERT_STATUSES)


def check_can_read(actor: Actor) -> None:
    if actor.role not in READ_ROLES:
        raise Forbidden(f"role {actor.role} may not read alerts")
    if actor.role != "admin" and actor.bureau_code is None:
        raise Forbidden("a principal without a bureau may not read alerts")


def visibility_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL: the alerts `actor` may see (call check_can_read first)."""
    if actor.is_admin:
        return true()
    return or_(
        Alert.owner_bureau == actor.bureau_code,
        exists().where(
            AlertRecipient.alert_id == Alert.id, AlertRecipient.bureau_code == actor.bureau_code
        ),
    )


def can_see(actor: Actor, alert: Alert) -> bool:
    if actor.is_admin:
        return True
    return actor.role in READ_ROLES and (
        alert.owner_bureau == actor.bureau_code or actor.bureau_code in (alert.recipients or [])
    )


@dataclass(frozen=True)
class AlertFilters:
    statuses: Sequence[str] = ()
    severities: Sequence[str] = ()
    notice_types: Sequence[str] = ()
    entry_id: str | None = None
    bureau: str | None = None  # admins: alerts routed to this bureau
    min_score: float | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    since_id: int | None = None  # only alerts with a larger id (what is new since...)

    def audit_detail(self) -> dict[str, Any]:
        # Ids, codes and ranges only: none of these is personal data.
        out: dict[str, Any] = {
            "statuses": list(self.statuses),
            "severities": list(self.severities),
            "notice_types": list(self.notice_types),
            "entry_id": self.entry_id,
            "bureau": self.bureau,
            "min_score": self.min_score,
            "created_after": self.created_after.isoformat() if self.created_after else None,
            "created_before": self.created_before.isoformat() if self.created_before else None,
            "since_id": self.since_id,
        }
        return {k: v for k, v in out.items() if v not in (None, [])}


async def list_alerts(
    session: AsyncSession,
    actor: Actor,
    filters: AlertFilters,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Alert]:
    """Newest first (id descending); `before_id` continues after the previous page's last row.
    Returns up to `limit` rows; the caller asks for one more to know whether a page follows."""
    check_can_read(actor)
    q = select(Alert).where(visibility_clause(actor)).order_by(Alert.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(Alert.id < before_id)
    if filters.since_id is not None:
        q = q.where(Alert.id > filters.since_id)
    if filters.statuses:
        q = q.where(Alert.status.in_(list(filters.statuses)))
    if filters.severities:
        q = q.where(Alert.severity.in_(list(filters.severities)))
    if filters.notice_types:
        q = q.where(Alert.notice_type.in_(list(filters.notice_types)))
    if filters.entry_id is not None:
        q = q.where(Alert.entry_id == filters.entry_id)
    if filters.bureau is not None:
        q = q.where(
            exists().where(
                AlertRecipient.alert_id == Alert.id, AlertRecipient.bureau_code == filters.bureau
            )
        )
    if filters.min_score is not None:
        q = q.where(Alert.score >= filters.min_score)
    if filters.created_after is not None:
        q = q.where(Alert.created_at >= filters.created_after)
    if filters.created_before is not None:
        q = q.where(Alert.created_at < filters.created_before)
    rows = list((await session.scalars(q)).all())
    audit.record(
        session,
        actor,
        "alert.list",
        OBJECT_TYPE,
        None,
        {"filters": filters.audit_detail(), "ids": [r.id for r in rows]},
    )
    await session.commit()
    return rows


async def _visible_alert(
    session: AsyncSession, actor: Actor, alert_id: int, *, for_update: bool = False
) -> Alert:
    check_can_read(actor)
    q = select(Alert).where(Alert.id == alert_id)
    if for_update:
        # Serialises concurrent transitions of one alert (ignored by SQLite, which has one writer).
        q = q.with_for_update()
    alert = await session.scalar(q)
    if alert is None or not can_see(actor, alert):
        raise NotFound("no such alert")
    return alert


async def get_alert(session: AsyncSession, actor: Actor, alert_id: int) -> Alert:
    alert = await _visible_alert(session, actor, alert_id)
    audit.record(session, actor, "alert.read", OBJECT_TYPE, str(alert_id), {})
    await session.commit()
    return alert


async def list_transitions(session: AsyncSession, alert_id: int) -> Sequence[AlertTransition]:
    return (
        await session.scalars(
            select(AlertTransition)
            .where(AlertTransition.alert_id == alert_id)
            .order_by(AlertTransition.id)
        )
    ).all()


async def acked_at(session: AsyncSession, actor: Actor, alert_id: int) -> datetime | None:
    ack = await session.get(AlertAck, (alert_id, actor.id))
    return ack.acked_at if ack is not None else None


def _add_transition(
    session: AsyncSession, actor: Actor, alert: Alert, to_status: str, note: str | None
) -> None:
    now = utcnow()
    session.add(
        AlertTransition(
            alert_id=alert.id,
            from_status=alert.status,
            to_status=to_status,
            principal_id=actor.id,
            bureau_code=actor.bureau_code,
            note=note,
            at=now,
        )
    )
    # The note is free text and may name people: it stays in alert_transition, not in the audit.
    audit.record(
        session,
        actor,
        f"alert.{to_status}",
        OBJECT_TYPE,
        str(alert.id),
        {"from": alert.status, "to": to_status, "note": note is not None},
    )
    alert.status = to_status
    alert.updated_at = now


async def publish_current(
    session: AsyncSession, bus: AlertBus | None, alert_ids: Sequence[int]
) -> None:
    """Publish the committed state of these alerts: every hub turns them into `alert_update`."""
    if bus is None or not alert_ids:
        return
    rows = (
        await session.scalars(select(Alert).where(Alert.id.in_(list(alert_ids))).order_by(Alert.id))
    ).all()
    try:
        await bus.publish([alert_view(row) for row in rows])
    except Exception:  # committed already: the change stands; sockets learn later
        log.warning("publishing %d alert updates failed", len(rows), exc_info=True)


async def transition(
    session: AsyncSession,
    actor: Actor,
    alert_id: int,
    to_status: str,
    *,
    note: str | None = None,
    expected_status: str | None = None,
    bus: AlertBus | None = None,
) -> Alert:
    """Move an alert along its lifecycle, commit, then publish the change."""
    if actor.role not in TRIAGE_ROLES:
        raise Forbidden(f"role {actor.role} may not triage alerts")
    alert = await _visible_alert(session, actor, alert_id, for_update=True)
    if expected_status is not None and alert.status != expected_status:
        raise Conflict(f"alert is {alert.status}, not {expected_status}")
    if to_status == "withdrawn":
        raise Conflict("alerts are withdrawn when their watchlist entry is cancelled")
    allowed = TRANSITIONS.get(alert.status, frozenset())
    if to_status not in allowed:
        nxt = ", ".join(sorted(allowed)) or "none (final)"
        raise Conflict(f"an alert in status {alert.status} cannot become {to_status}; next: {nxt}")
    _add_transition(session, actor, alert, to_status, note)
    await session.commit()
    await publish_current(session, bus, [alert.id])
    return alert


async def withdraw_open_alerts(
    session: AsyncSession,
    entry_id: str,
    actor: Actor,
    *,
    bus: AlertBus | None = None,
    note: str | None = "watchlist entry cancelled",
    commit: bool = True,
) -> list[int]:
    """Set the entry's open alerts (new, acknowledged, in_review, confirmed) to withdrawn.

    With `commit=True` (default) this commits, then publishes the changes on `bus` so that every
    bureau's socket gets `alert_update`. With `commit=False` the changes join the caller's
    transaction: the caller must commit, then call `publish_current(session, bus, ids)`."""
    rows = (
        await session.scalars(
            select(Alert)
            .where(Alert.entry_id == entry_id, Alert.status.in_(OPEN_STATUSES))
            .order_by(Alert.id)
            .with_for_update()
        )
    ).all()
    for alert in rows:
        _add_transition(session, actor, alert, "withdrawn", note)
    ids = [a.id for a in rows]
    if commit:
        await session.commit()
        await publish_current(session, bus, ids)
    else:
        await session.flush()
    return ids


async def record_ack(session: AsyncSession, actor: Actor, alert_id: int) -> bool:
    """Store that `actor` has seen the alert (websocket `ack`). False when it may not see it.
    Acknowledging twice keeps the first time. This is a receipt, not the `acknowledged` status
    (which is a triage decision, POST .../transitions)."""
    alert = await session.get(Alert, alert_id)
    if alert is None or not can_see(actor, alert):
        return False
    if await session.get(AlertAck, (alert_id, actor.id)) is None:
        session.add(AlertAck(alert_id=alert_id, principal_id=actor.id, acked_at=utcnow()))
        try:
            await session.commit()
        except IntegrityError:
            # Two acks of the same alert racing on two sockets of one principal: one wins.
            await session.rollback()
            if await session.get(AlertAck, (alert_id, actor.id)) is None:
                raise
    return True


async def entry_timeline(
    session: AsyncSession,
    actor: Actor,
    alert_id: int,
    *,
    limit: int = 500,
    crossing_points: Mapping[str, GeoPoint] | None = None,
) -> tuple[Alert, list[TimelinePointOut]]:
    """The movements of the subject of an alert's entry that the caller may see: the sightings
    behind every visible alert on that entry, in the order they happened."""
    alert = await _visible_alert(session, actor, alert_id)
    rows = (
        await session.execute(
            select(Alert, Sighting)
            .join(Sighting, Sighting.id == Alert.sighting_id)
            .where(Alert.entry_id == alert.entry_id, visibility_clause(actor))
            .order_by(Sighting.occurred_at, Alert.id)
            .limit(limit)
        )
    ).all()
    points = [
        TimelinePointOut(
            alert_id=a.id,
            sighting_id=s.id,
            occurred_at=s.occurred_at,
            kind=s.kind,
            country=s.country,
            place=s.place,
            direction=s.direction,
            route_countries=list(s.route_countries or []),
            status=a.status,
            score=a.score,
            stops=places.stops(s.event or {}, crossing_points or {}),
        )
        for a, s in rows
    ]
    audit.record(
        session,
        actor,
        "alert.timeline",
        OBJECT_TYPE,
        str(alert_id),
        {"entry_id": alert.entry_id, "ids": [p.alert_id for p in points]},
    )
    await session.commit()
    return alert, points
