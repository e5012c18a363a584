"""`/v1/alerts`: list (filters, cursor pagination), get one, lifecycle transitions, timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from failsafe.alerts import service
from failsafe.alerts.schemas import (
    AlertDetail,
    AlertOut,
    AlertPage,
    Timeline,
    TransitionIn,
    TransitionOut,
)
from failsafe.alerts.views import alert_view
from failsafe.auth.deps import ActorDep
from failsafe.auth.service import principal_names
from failsafe.contract import AlertStatus, AlertView, NoticeType, Severity
from failsafe.db.models import Alert
from failsafe.kit.codes import CountryCode
from failsafe.kit.limits import BodyLimitRoute
from failsafe.kit.openapi import error_responses
from failsafe.kit.pagination import cursor_key, encode_cursor
from failsafe.kit.safe import DB_INT_MAX, Instant
from failsafe.kit.state import BusDep, SessionDep, StateDep

router = APIRouter(
    prefix="/v1/alerts",
    tags=["alerts"],
    route_class=BodyLimitRoute,
    responses=error_responses(401, 403, 429),
)

AlertId = Annotated[int, Path(ge=1, le=2**62)]


def _out(alert: Alert) -> AlertView:
    return alert_view(alert)


async def _transitions(session: SessionDep, alert_id: int) -> list[TransitionOut]:
    """The alert's transitions with the display name of who made each (history shows names)."""
    transitions = await service.list_transitions(session, alert_id)
    names = await principal_names(session, {t.principal_id for t in transitions if t.principal_id})
    return [
        TransitionOut.model_validate(t).model_copy(
            update={"principal_name": names.get(t.principal_id or "")}
        )
        for t in transitions
    ]


async def _detail(session: SessionDep, actor: ActorDep, alert: Alert) -> AlertDetail:
    return AlertDetail.model_validate(
        {
            **_out(alert),
            "transitions": await _transitions(session, alert.id),
            "acked_at": await service.acked_at(session, actor, alert.id),
        }
    )


@router.get(
    "",
    summary="Alerts the caller may see, newest first",
    description="Bureau and analyst principals see the alerts routed to their bureau and every "
    "alert on entries their bureau owns; admins see all; border principals none. Repeat a "
    "filter to accept several values (`?status=new&status=acknowledged`). Pages are keyset "
    "cursors: pass `next_cursor` back as `cursor`.",
    responses=error_responses(400, 422),
)
async def list_alerts(
    actor: ActorDep,
    session: SessionDep,
    status_: Annotated[list[AlertStatus] | None, Query(alias="status")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    notice_type: Annotated[list[NoticeType] | None, Query()] = None,
    entry_id: Annotated[str | None, Query(max_length=64)] = None,
    bureau: Annotated[
        CountryCode | None, Query(description="alerts routed to this bureau (admins)")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    created_after: Annotated[Instant | None, Query()] = None,
    created_before: Annotated[Instant | None, Query()] = None,
    since_id: Annotated[
        int | None, Query(ge=0, le=DB_INT_MAX, description="only alerts with a larger id")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AlertPage:
    before_id = cursor_key(cursor, "before", int)
    filters = service.AlertFilters(
        statuses=status_ or (),
        severities=severity or (),
        notice_types=notice_type or (),
        entry_id=entry_id,
        bureau=bureau,
        min_score=min_score,
        created_after=created_after,
        created_before=created_before,
        since_id=since_id,
    )
    rows = await service.list_alerts(session, actor, filters, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor({"before": page[-1].id}) if len(rows) > limit else None
    items = [AlertOut.model_validate(_out(a)) for a in page]
    return AlertPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{alert_id}",
    summary="One alert, with its transitions and whether the caller acknowledged it",
    responses=error_responses(404),
)
async def get_alert(alert_id: AlertId, actor: ActorDep, session: SessionDep) -> AlertDetail:
    alert = await service.get_alert(session, actor, alert_id)
    return await _detail(session, actor, alert)


@router.get(
    "/{alert_id}/transitions",
    summary="The alert's status changes, oldest first (who, when, note)",
    responses=error_responses(404),
)
async def list_transitions(
    alert_id: AlertId, actor: ActorDep, session: SessionDep
) -> list[TransitionOut]:
    await service.get_alert(session, actor, alert_id)
    return await _transitions(session, alert_id)


@router.post(
    "/{alert_id}/transitions",
    status_code=status.HTTP_200_OK,
    summary="Move the alert along its lifecycle",
    description="new → acknowledged → in_review → confirmed | false_positive; confirmed → "
    "action_reported → closed. 409 for any other step (or when `expected_status` is not the "
    "current one). Recorded with who, when and the note, audited, and pushed to every socket "
    "of the alert's bureaus as `alert_update`.",
    responses=error_responses(404, 409, 413, 422),
)
async def post_transition(
    alert_id: AlertId, body: TransitionIn, actor: ActorDep, session: SessionDep, bus: BusDep
) -> AlertDetail:
    alert = await service.transition(
        session,
        actor,
        alert_id,
        body.status,
        note=body.note or None,
        expected_status=body.expected_status,
        bus=bus,
    )
    return await _detail(session, actor, alert)


@router.get(
    "/{alert_id}/timeline",
    summary="The movements of the alert's subject: its entry's sightings the caller may see",
    responses=error_responses(404),
)
async def get_timeline(
    alert_id: AlertId, actor: ActorDep, session: SessionDep, state: StateDep
) -> Timeline:
    alert, points = await service.entry_timeline(
        session, actor, alert_id, crossing_points=state.settings.dashboard.crossing_points
    )
    entry = (alert.payload or {}).get("entry") or {}
    return Timeline(
        entry_id=alert.entry_id,
        subject_name=entry.get("subject_name") or None,
        points=points,
    )
