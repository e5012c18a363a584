"""Recording audit rows inside the caller's transaction, and querying them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.actor import Actor
from failsafe.db.base import utcnow
from failsafe.db.models import AuditLog


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the session: it commits (or rolls back) with the change it describes.

    `detail` must hold ids, counts and field names only: never names, documents or free text."""
    session.add(audit_row(actor, action, object_type, object_id, detail))


def audit_row(
    actor: Actor,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    return AuditLog(
        at=at or utcnow(),
        principal_id=actor.id,
        role=actor.role,
        bureau_code=actor.bureau_code,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or {},
    )


def audit_values(
    actor: Actor,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: dict[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    """The same row as a dict, for bulk inserts (the importer writes thousands at once)."""
    return {
        "at": at,
        "principal_id": actor.id,
        "role": actor.role,
        "bureau_code": actor.bureau_code,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "detail": detail or {},
    }


async def query(
    session: AsyncSession,
    *,
    before_id: int | None = None,
    limit: int = 100,
    principal_id: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    bureau_code: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditLog]:
    """Newest first; `before_id` continues after the last row of the previous page."""
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(AuditLog.id < before_id)
    if principal_id is not None:
        q = q.where(AuditLog.principal_id == principal_id)
    if action is not None:
        # A trailing `.*` selects a family of actions: `watchlist.*`.
        if action.endswith(".*"):
            q = q.where(AuditLog.action.startswith(action[:-1], autoescape=True))
        else:
            q = q.where(AuditLog.action == action)
    if object_type is not None:
        q = q.where(AuditLog.object_type == object_type)
    if object_id is not None:
        q = q.where(AuditLog.object_id == object_id)
    if bureau_code is not None:
        q = q.where(AuditLog.bureau_code == bureau_code)
    if since is not None:
        q = q.where(AuditLog.at >= since)
    if until is not None:
        q = q.where(AuditLog.at < until)
    return (await session.scalars(q)).all()


async def read_page(
    session: AsyncSession, actor: Actor, *, limit: int, **filters: Any
) -> Sequence[AuditLog]:
    """Up to `limit + 1` rows of `query` (the extra one tells the caller there is more), the
    read itself recorded (who looked at the audit log is worth knowing) and committed."""
    rows = await query(session, limit=limit + 1, **filters)
    returned = min(len(rows), limit)
    record(session, actor, "audit.query", "audit_log", None, {"returned": returned})
    await session.commit()
    return rows
