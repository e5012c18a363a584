"""`GET /v1/audit`: admins query the audit log, newest first, with filters and a cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from failsafe.audit import service
from failsafe.auth.deps import AdminDep
from failsafe.kit.openapi import error_responses
from failsafe.kit.pagination import cursor_key, encode_cursor
from failsafe.kit.safe import Instant
from failsafe.kit.state import SessionDep

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=error_responses(401, 429))


class AuditRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    principal_id: str | None
    role: str | None
    bureau_code: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRecord]
    next_cursor: str | None = None


@router.get(
    "",
    summary="Query the audit log (admin)",
    description="Newest first. `action` matches exactly, or a family with a trailing `.*` "
    "(`watchlist.*`). Actions: `watchlist.create|update|cancel|read|list|versions|sightings|"
    "import`, `principal.create|revoke`, `audit.query`.",
    responses=error_responses(400, 403, 422),
)
async def query_audit(
    actor: AdminDep,
    session: SessionDep,
    principal_id: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    bureau: str | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    before = cursor_key(cursor, "before", int)
    rows = await service.read_page(
        session,
        actor,
        limit=limit,
        before_id=before,
        principal_id=principal_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        bureau_code=bureau,
        since=since,
        until=until,
    )
    items = [AuditRecord.model_validate(r) for r in rows[:limit]]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(rows) > limit else None
    return AuditPage(items=items, next_cursor=next_cursor)
