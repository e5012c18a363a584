"""The alarm API's service: the alarm queries (who sees which alarm) and the adjudication
lifecycle behind /v1/alarms (failsafe.alarms.service keeps the intake and the crossing observer).

Invariants:
- Admins see every alarm; others the alarms of their own country and those whose alert was
  routed to their bureau (border principals: their own country only); an alarm the caller may
  not see is a 404, as one that does not exist.
- Adjudication is append-only (alarm_adjudication rows, never updated), audited, and moves the
  alarm alert: an innocent code closes it, `contraband_found` confirms it (the transition is
  recorded like any other, by the adjudicating principal); the change is published after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alarms.schemas import InnocentCode
from failsafe.alerts.views import alert_view
from failsafe.contract import AlertView
from failsafe.db.base import utcnow
from failsafe.db.models import (
    Alarm,
    AlarmAdjudication,
    AlarmLink,
    Alert,
    AlertRecipient,
    AlertTransition,
)
from failsafe.errors import Forbidden, NotFound
from failsafe.kit.bus import AlertBus

OBJECT_TYPE = "alarm"
READ_ROLES = frozenset({"admin", "bureau", "analyst", "border"})
ADJUDICATE_ROLES = frozenset({"admin", "bureau", "border"})
# Adjudication codes that say the alarm was innocent (the alert closes) and the one that
# confirms it; the rest leave the alert's status as it is.
INNOCENT: frozenset[str] = frozenset(get_args(InnocentCode))
CONFIRMING = "contraband_found"


def _check_read(actor: Actor) -> None:
    if actor.role not in READ_ROLES:
        raise Forbidden(f"role {actor.role} may not read alarms")
    if actor.role != "admin" and actor.bureau_code is None:
        raise Forbidden("a principal without a bureau may not read alarms")


def _visible(actor: Actor, alarm: Alarm, alert: Alert | None) -> bool:
    """Admins see every alarm; others the alarms of their own country and those whose alert
    was routed to their bureau (border principals: their own country only)."""
    if actor.is_admin or alarm.country == actor.bureau_code:
        return True
    return (
        actor.role != "border"
        and alert is not None
        and actor.bureau_code in (alert.recipients or [])
    )


@dataclass(frozen=True)
class AlarmFilters:
    point: str | None = None
    lane: str | None = None
    category: str | None = None
    adjudication: str | None = None  # a code, or "none" (not adjudicated)
    after: datetime | None = None
    before: datetime | None = None


async def list_alarms(
    session: AsyncSession,
    actor: Actor,
    filters: AlarmFilters,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[tuple[Alarm, Alert | None]]:
    _check_read(actor)
    q = (
        select(Alarm, Alert)
        .outerjoin(Alert, Alert.id == Alarm.alert_id)
        .order_by(Alarm.id.desc())
        .limit(limit)
    )
    if not actor.is_admin:
        routed = (
            select(AlertRecipient.alert_id)
            .where(AlertRecipient.bureau_code == actor.bureau_code)
            .scalar_subquery()
        )
        if actor.role == "border":
            q = q.where(Alarm.country == actor.bureau_code)
        else:
            q = q.where((Alarm.country == actor.bureau_code) | Alarm.alert_id.in_(routed))
    if before_id is not None:
        q = q.where(Alarm.id < before_id)
    if filters.point is not None:
        q = q.where(Alarm.point == filters.point)
    if filters.lane is not None:
        q = q.where(Alarm.lane == filters.lane)
    if filters.category is not None:
        q = q.where(Alarm.categories.like(f"% {filters.category} %"))
    if filters.adjudication == "none":
        q = q.where(Alarm.adjudication.is_(None))
    elif filters.adjudication is not None:
        q = q.where(Alarm.adjudication == filters.adjudication)
    if filters.after is not None:
        q = q.where(Alarm.occurred_at >= filters.after)
    if filters.before is not None:
        q = q.where(Alarm.occurred_at < filters.before)
    rows: list[tuple[Alarm, Alert | None]] = [(a, al) for a, al in (await session.execute(q)).all()]
    audit.record(
        session, actor, "alarm.list", OBJECT_TYPE, None, {"ids": [a.alarm_id for a, _ in rows]}
    )
    await session.commit()
    return rows


async def _get(
    session: AsyncSession, actor: Actor, alarm_id: str, *, for_update: bool = False
) -> tuple[Alarm, Alert | None]:
    _check_read(actor)
    q = select(Alarm).where(Alarm.alarm_id == alarm_id)
    if for_update:
        q = q.with_for_update()
    alarm = await session.scalar(q)
    if alarm is None:
        raise NotFound("no such alarm")
    alert = await session.get(Alert, alarm.alert_id) if alarm.alert_id is not None else None
    if not _visible(actor, alarm, alert):
        raise NotFound("no such alarm")
    return alarm, alert


@dataclass
class AlarmDetail:
    alarm: Alarm
    alert: AlertView | None
    links: list[AlarmLink]
    adjudications: list[AlarmAdjudication]


async def get_alarm(session: AsyncSession, actor: Actor, alarm_id: str) -> AlarmDetail:
    alarm, alert = await _get(session, actor, alarm_id)
    links = list(
        (
            await session.scalars(
                select(AlarmLink).where(AlarmLink.alarm_pk == alarm.id).order_by(AlarmLink.event_id)
            )
        ).all()
    )
    adjudications = list(
        (
            await session.scalars(
                select(AlarmAdjudication)
                .where(AlarmAdjudication.alarm_pk == alarm.id)
                .order_by(AlarmAdjudication.id)
            )
        ).all()
    )
    # Border principals see the alarm and its adjudications, not who was in the lane: a sending
    # system must not learn about the travellers (or hits) linked to it.
    view = alert_view(alert) if alert is not None and actor.role != "border" else None
    audit.record(session, actor, "alarm.read", OBJECT_TYPE, alarm_id, {})
    await session.commit()
    return AlarmDetail(alarm, view, links if actor.role != "border" else [], adjudications)


async def adjudicate(
    session: AsyncSession,
    actor: Actor,
    alarm_id: str,
    *,
    code: str,
    secondary: str,
    isotopes: Sequence[str],
    note: str | None,
    bus: AlertBus | None,
) -> AlarmAdjudication:
    """Append an adjudication, move the alarm alert's status, audit, commit, then publish."""
    if actor.role not in ADJUDICATE_ROLES:
        raise Forbidden(f"role {actor.role} may not adjudicate alarms")
    alarm, _ = await _get(session, actor, alarm_id, for_update=True)
    if not actor.is_admin and alarm.country != actor.bureau_code:
        # The inspection happens at the point: its own country's officers and bureau decide.
        raise Forbidden("only the crossing point's country adjudicates its alarms")
    now = utcnow()
    row = AlarmAdjudication(
        alarm_pk=alarm.id,
        code=code,
        secondary=secondary,
        isotopes=list(isotopes),
        note=note,
        principal_id=actor.id,
        bureau_code=actor.bureau_code,
        at=now,
    )
    session.add(row)
    alarm.adjudication = code
    moved: list[int] = []
    if alarm.alert_id is not None:
        alert = await session.get_one(Alert, alarm.alert_id, with_for_update=True)
        target = "closed" if code in INNOCENT else "confirmed" if code == CONFIRMING else None
        payload = dict(alert.payload or {})
        payload["adjudication"] = {
            "code": code,
            "secondary": secondary,
            "isotopes": list(isotopes),
            "at": now.isoformat(),
        }
        alert.payload = payload
        if target is not None and alert.status != target and alert.status not in ("withdrawn",):
            session.add(
                AlertTransition(
                    alert_id=alert.id,
                    from_status=alert.status,
                    to_status=target,
                    principal_id=actor.id,
                    bureau_code=actor.bureau_code,
                    note=f"adjudication: {code}",
                    at=now,
                )
            )
            alert.status = target
        alert.updated_at = now
        moved.append(alert.id)
    # Codes and ids only: the note is free text and stays in alarm_adjudication.
    audit.record(
        session,
        actor,
        "alarm.adjudicate",
        OBJECT_TYPE,
        alarm_id,
        {
            "code": code,
            "secondary": secondary,
            "isotopes": list(isotopes),
            "note": note is not None,
        },
    )
    await session.commit()
    if bus is not None and moved:
        from failsafe.alerts.service import publish_current

        await publish_current(session, bus, moved)
    return row
