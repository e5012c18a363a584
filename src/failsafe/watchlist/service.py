"""Watchlist entries: create, read, list, change, cancel, history, movement timeline.

Every change writes, in one transaction: the entry's new state, a `watchlist_entry_version` row,
an audit row, and the next global watchlist revision, which is taken last (it locks the counter
row until commit; see failsafe.db.counters). Every read of personal data is audited too.

Who may see what is failsafe.watchlist.policy; the stored document and its columns are
failsafe.watchlist.documents; bulk import writes through failsafe.watchlist.bulk. An entry that
leaves `active` (cancelled through the API or an import) withdraws its open alerts in the same
transaction, always through `withdraw_alerts_of`, and they are published after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts.service import publish_current, withdraw_open_alerts
from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import WatchlistEntry
from failsafe.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable
from failsafe.kit.bus import AlertBus
from failsafe.kit.validation import validation_details
from failsafe.watchlist.documents import (
    as_now,
    build_document,
    changed_fields,
    contract_of,
    effective_status,
    entry_json,
    merge_patch,
    new_entry_id,
    patch_dates_of_birth,
    row_values,
    version_row,
)
from failsafe.watchlist.policy import (
    check_can_write,
    resolve_owner,
    visibility_clause,
    visible_entry,
)
from failsafe.watchlist.schemas import READ_ONLY_KEYS, EntryIn
from failsafe.watchlist.search import query_tokens

READ_ROLES = ("admin", "analyst", "bureau")
WRITE_ROLES = ("admin", "analyst")
OBJECT_TYPE = "watchlist_entry"


async def withdraw_alerts_of(
    session: AsyncSession, actor: Actor, entry_ids: Sequence[str]
) -> list[int]:
    """Withdraw the open alerts of entries that are leaving `active`, in the caller's transaction.

    The one place every cancelling path goes through (`cancel_entry`, an import line that
    cancels): nobody should act on a hit of a withdrawn notice. Returns the withdrawn alert ids;
    the caller commits, then publishes them with `publish_current` (without a bus, as in the
    CLI, sockets learn the status on their next replay)."""
    withdrawn: list[int] = []
    for entry_id in entry_ids:
        withdrawn += await withdraw_open_alerts(session, entry_id, actor, commit=False)
    return withdrawn


# --- create, read, list ----------------------------------------------------------------------


async def create_entry(session: AsyncSession, actor: Actor, data: EntryIn) -> dict[str, Any]:
    owner = resolve_owner(actor, data.owner_bureau)
    if data.status == "cancelled":
        raise Unprocessable(
            "a new entry is active",
            [{"loc": ["body", "status"], "msg": "active or omitted", "type": "value_error"}],
        )
    entry_id = data.id or new_entry_id()
    contract = data.contract_fields()
    contract["owner_bureau"] = owner
    clash = await session.scalar(
        select(WatchlistEntry.id).where(
            or_(
                WatchlistEntry.id == entry_id,
                WatchlistEntry.notice_reference == data.notice.reference,
            )
        )
    )
    if clash is not None:
        raise Conflict("an entry with this id or notice reference already exists")
    now = utcnow()
    audit.record(session, actor, "watchlist.create", OBJECT_TYPE, entry_id, {"version": 1})
    await session.flush()
    revision = await counters.next_value(session, counters.WATCHLIST_REVISION)
    doc = build_document(
        entry_id,
        contract,
        status="active",
        version=1,
        revision=revision,
        created_at=now,
        created_by=actor.id,
        updated_at=now,
        updated_by=actor.id,
    )
    session.add(WatchlistEntry(id=entry_id, created_at=now, created_by=actor.id, **row_values(doc)))
    try:
        await session.flush()
        session.add(version_row(entry_id, doc, "create", now, actor.id))
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("an entry with this id or notice reference already exists") from None
    return as_now(doc)


async def read_entry(session: AsyncSession, actor: Actor, entry_id: str) -> dict[str, Any]:
    row = await visible_entry(session, actor, entry_id)
    doc = entry_json(row)
    audit.record(session, actor, "watchlist.read", OBJECT_TYPE, entry_id, {"version": row.version})
    await session.commit()
    return doc


@dataclass
class ListFilters:
    status: str | None = None
    notice_type: str | None = None
    owner_bureau: str | None = None
    q: str | None = None

    def audit_detail(self) -> dict[str, Any]:
        # The search text is a name: the audit row only says that there was one.
        return {
            "status": self.status,
            "notice_type": self.notice_type,
            "owner_bureau": self.owner_bureau,
            "name_search": bool(self.q),
        }


async def list_entries(
    session: AsyncSession,
    actor: Actor,
    filters: ListFilters,
    *,
    after_id: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of visible entries ordered by id, and whether more follow."""
    now = utcnow()
    e = WatchlistEntry
    query = select(e).order_by(e.id).limit(limit + 1)
    clause = visibility_clause(actor)
    if clause is not None:
        query = query.where(clause)
    if after_id is not None:
        query = query.where(e.id > after_id)
    if filters.status == "active":
        query = query.where(e.status == "active", or_(e.expires_at.is_(None), e.expires_at > now))
    elif filters.status == "expired":
        query = query.where(
            or_(e.status == "expired", and_(e.status == "active", e.expires_at <= now))
        )
    elif filters.status is not None:
        query = query.where(e.status == filters.status)
    if filters.notice_type is not None:
        query = query.where(e.notice_type == filters.notice_type)
    if filters.owner_bureau is not None:
        query = query.where(e.owner_bureau == filters.owner_bureau)
    if filters.q:
        tokens = query_tokens(filters.q)
        if not tokens:
            return [], False
        for token in tokens:
            # Tokens are letters only (the normaliser's output): nothing to escape for LIKE.
            query = query.where(e.search_text.like(f"% {token}%"))
    rows = (await session.scalars(query)).all()
    more = len(rows) > limit
    items = [entry_json(r, now) for r in rows[:limit]]
    audit.record(
        session,
        actor,
        "watchlist.list",
        OBJECT_TYPE,
        None,
        {"filters": filters.audit_detail(), "ids": [i["id"] for i in items]},
    )
    await session.commit()
    return items, more


# --- change, cancel --------------------------------------------------------------------------


async def _write_change(
    session: AsyncSession,
    actor: Actor,
    row: WatchlistEntry,
    contract: dict[str, Any],
    *,
    status: str,
    change: str,
    audit_detail: dict[str, Any],
    cancellation: dict[str, Any] | None = None,
    bus: AlertBus | None = None,
) -> dict[str, Any]:
    """Write one new version of `row` (already locked and checked) and commit. An entry leaving
    `active` withdraws its open alerts in the same transaction; the updates go out on `bus`."""
    now = utcnow()
    old_version = row.version
    version = old_version + 1
    audit.record(
        session,
        actor,
        f"watchlist.{change}",
        OBJECT_TYPE,
        row.id,
        {"version": version, **audit_detail},
    )
    await session.flush()
    withdrawn = await withdraw_alerts_of(session, actor, [row.id]) if status != "active" else []
    revision = await counters.next_value(session, counters.WATCHLIST_REVISION)
    doc = build_document(
        row.id,
        contract,
        status=status,
        version=version,
        revision=revision,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=now,
        updated_by=actor.id,
        cancellation=cancellation,
    )
    result = await session.execute(
        update(WatchlistEntry)
        .where(WatchlistEntry.id == row.id, WatchlistEntry.version == old_version)
        .values(**row_values(doc))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Only reachable where FOR UPDATE is a no-op (SQLite): another writer got there first.
        await session.rollback()
        raise Conflict("the entry changed meanwhile; read it again")
    session.add(version_row(row.id, doc, change, now, actor.id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("the notice reference belongs to another entry") from None
    await publish_current(session, bus, withdrawn)
    return as_now(doc)


def _check_preconditions(row: WatchlistEntry, if_match: int | None, version: int | None) -> None:
    if if_match is not None and if_match != row.version:
        raise PreconditionFailed(
            f"If-Match does not match the current version {row.version}",
            [{"current_version": row.version}],
        )
    if version is not None and version != row.version:
        raise Conflict(
            f"version {version} is not the current version {row.version}",
            [{"current_version": row.version}],
        )


async def update_entry(
    session: AsyncSession,
    actor: Actor,
    entry_id: str,
    patch: dict[str, Any],
    *,
    if_match: int | None = None,
) -> dict[str, Any]:
    """Apply a JSON merge patch (RFC 7396) to the entry's contract fields, as a new version.

    Optimistic concurrency: `If-Match` (412 when stale) or `version` in the body (409 when
    stale); without either the change applies to whatever version is current."""
    patch = dict(patch)
    body_version = patch.pop("version", None)
    if body_version is not None and type(body_version) is not int:
        raise Unprocessable(
            "version must be an integer",
            [{"loc": ["body", "version"], "msg": "must be an integer", "type": "int_type"}],
        )
    row = await visible_entry(session, actor, entry_id, for_update=True)
    check_can_write(actor, row)
    _check_preconditions(row, if_match, body_version)
    if row.status == "cancelled":
        raise Conflict("a cancelled entry cannot change")
    if "id" in patch and patch.pop("id") != row.id:
        raise Unprocessable(
            "id cannot change",
            [{"loc": ["body", "id"], "msg": "does not match the entry", "type": "value_error"}],
        )
    status = patch.pop("status", None)
    if status is not None and status != effective_status(row.status, row.expires_at, utcnow()):
        raise Unprocessable(
            "status changes through POST /v1/watchlist/{id}/cancel",
            [{"loc": ["body", "status"], "msg": "read-only here", "type": "value_error"}],
        )
    for key in READ_ONLY_KEYS:
        patch.pop(key, None)
    current = contract_of(row.document)
    merged = merge_patch(current, patch)
    patch_dates_of_birth(current, patch, merged)
    try:
        data = EntryIn.model_validate(merged)
    except ValidationError as exc:
        raise Unprocessable("invalid entry", validation_details(exc, ("body",))) from None
    if data.owner_bureau != row.owner_bureau and not actor.is_admin:
        raise Forbidden("only an admin may transfer an entry to another bureau")
    contract = data.contract_fields()
    fields = changed_fields(current, contract)
    if not fields:
        # Nothing changes: no version, no revision. Answering still shows the entry: audit it.
        audit.record(
            session, actor, "watchlist.read", OBJECT_TYPE, row.id, {"version": row.version}
        )
        await session.commit()
        return entry_json(row)
    return await _write_change(
        session,
        actor,
        row,
        contract,
        status=row.status,
        change="update",
        audit_detail={"fields": fields},
    )


async def cancel_entry(
    session: AsyncSession,
    actor: Actor,
    entry_id: str,
    *,
    reason: str | None = None,
    if_match: int | None = None,
    version: int | None = None,
    bus: AlertBus | None = None,
) -> dict[str, Any]:
    """Cancel (never delete): the entry stays readable with its history and stops matching;
    its open alerts are withdrawn (and the updates published on `bus`).
    Cancelling a cancelled entry changes nothing and answers it as it is."""
    row = await visible_entry(session, actor, entry_id, for_update=True)
    check_can_write(actor, row)
    _check_preconditions(row, if_match, version)
    if row.status == "cancelled":
        await session.commit()
        return entry_json(row)
    cancellation = {"at": utcnow().isoformat(), "by": actor.id, "reason": reason}
    return await _write_change(
        session,
        actor,
        row,
        contract_of(row.document),
        status="cancelled",
        change="cancel",
        audit_detail={"reason_given": reason is not None},
        cancellation=cancellation,
        bus=bus,
    )


def record_export(
    session: AsyncSession, actor: Actor, fmt: str, exported: int, skipped: int
) -> None:
    """The audit row of a whole export (it reads every entry's personal data)."""
    audit.record(
        session,
        actor,
        "watchlist.export",
        OBJECT_TYPE,
        None,
        {"format": fmt, "exported": exported, "left_out": skipped},
    )
