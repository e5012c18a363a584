"""Bulk import, the writing half: a batch of validated lines created, updated or left unchanged
in one transaction (`failsafe.watchlist.importer` parses and validates the lines).

Idempotent: a line whose contract fields and status equal the stored ones writes nothing. Lines
match stored entries by `id`, else by notice reference; each change gets its version row, its
audit row and the next revision, as through the API (failsafe.watchlist.service). A line that
cancels an entry withdraws its open alerts in the same transaction (`withdraw_alerts_of`); the
withdrawals are published after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts.service import publish_current
from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import AuditLog, WatchlistEntry, WatchlistEntryVersion
from failsafe.kit.bus import AlertBus
from failsafe.watchlist.documents import build_document, contract_of, new_entry_id, row_values
from failsafe.watchlist.policy import can_see
from failsafe.watchlist.schemas import EntryIn, ImportReport, RejectedLine
from failsafe.watchlist.service import OBJECT_TYPE, withdraw_alerts_of


@dataclass
class ImportItem:
    line: int
    data: EntryIn


@dataclass
class _State:
    """An entry as the import batch sees it: as stored, then as changed by earlier lines."""

    id: str
    reference: str
    owner: str
    status: str
    version: int
    contract: dict[str, Any]
    created_at: datetime
    created_by: str | None
    mode: str
    allow: str
    deny: str
    in_db: bool
    cancellation: dict[str, Any] | None = None


@dataclass
class _Change:
    state: _State
    line: int
    change: str
    contract: dict[str, Any]
    status: str
    version: int
    cancellation: dict[str, Any] | None


def _reject(report: ImportReport, line: int, entry_id: str | None, reason: str) -> None:
    report.rejected += 1
    report.errors.append(RejectedLine(line=line, id=entry_id, reason=reason))


async def import_batch(
    session: AsyncSession,
    actor: Actor,
    items: Sequence[ImportItem],
    report: ImportReport,
    bus: AlertBus | None = None,
) -> None:
    """Create, update or leave unchanged each item, in one transaction; counts go to `report`.

    Idempotent: an item whose contract fields and status equal the stored ones is `unchanged`
    and writes nothing. Items match stored entries by `id` when they have one, else by notice
    reference. If the transaction fails on a constraint (a concurrent writer), the batch is
    retried one item at a time so that only the conflicting items are rejected."""
    try:
        await _import_batch(session, actor, items, report, bus)
    except IntegrityError:
        await session.rollback()
        if len(items) == 1:
            item = items[0]
            _reject(report, item.line, item.data.id, "conflicts with a concurrent change; retry")
            return
        for item in items:
            await import_batch(session, actor, [item], report, bus)


async def _import_batch(
    session: AsyncSession,
    actor: Actor,
    items: Sequence[ImportItem],
    report: ImportReport,
    bus: AlertBus | None,
) -> None:
    local = ImportReport()
    ids = {i.data.id for i in items if i.data.id}
    refs = {i.data.notice.reference for i in items}
    e = WatchlistEntry
    existing = (
        await session.execute(
            select(
                e.id,
                e.notice_reference,
                e.owner_bureau,
                e.status,
                e.version,
                e.document,
                e.created_at,
                e.created_by,
                e.distribution_mode,
                e.distribution_allow,
                e.distribution_deny,
            )
            .where(or_(e.id.in_(ids), e.notice_reference.in_(refs)))
            .order_by(e.id)
            .with_for_update()
        )
    ).all()
    by_id: dict[str, _State] = {}
    by_ref: dict[str, str] = {}
    for r in existing:
        by_id[r.id] = _State(
            id=r.id,
            reference=r.notice_reference or "",
            owner=r.owner_bureau,
            status=r.status,
            version=r.version,
            contract=contract_of(r.document),
            created_at=r.created_at,
            created_by=r.created_by,
            mode=r.distribution_mode,
            allow=r.distribution_allow,
            deny=r.distribution_deny,
            in_db=True,
            cancellation=r.document.get("cancellation"),
        )
        if r.notice_reference:
            by_ref[r.notice_reference] = r.id

    changes: list[_Change] = []
    now = utcnow()
    for item in items:
        data = item.data
        ref = data.notice.reference
        if actor.is_admin:
            if data.owner_bureau is None:
                _reject(local, item.line, data.id, "owner_bureau is required")
                continue
            owner = data.owner_bureau
        else:
            owner = data.owner_bureau or actor.bureau_code or ""
            if owner != actor.bureau_code:
                _reject(local, item.line, data.id, "owner_bureau must be the caller's bureau")
                continue
        holder = by_ref.get(ref)
        target_id = data.id or holder
        target = by_id.get(target_id) if target_id else None
        if holder is not None and (target is None or holder != target.id):
            _reject(local, item.line, data.id, "the notice reference belongs to another entry")
            continue
        contract = data.contract_fields()
        contract["owner_bureau"] = owner
        if target is None:
            state = _State(
                id=data.id or new_entry_id(),
                reference=ref,
                owner=owner,
                status="active",
                version=0,
                contract={},
                created_at=now,
                created_by=actor.id,
                mode="all",
                allow="",
                deny="",
                in_db=False,
            )
            status: str = data.status or "active"
            change = "create"
            by_id[state.id] = state
        else:
            state = target
            if not can_see(actor, state.owner, state.mode, state.allow, state.deny):
                _reject(local, item.line, data.id, "the id or notice reference is already in use")
                continue
            if not actor.is_admin and state.owner != actor.bureau_code:
                _reject(local, item.line, data.id, "the entry belongs to another bureau")
                continue
            if owner != state.owner and not actor.is_admin:
                _reject(local, item.line, data.id, "only an admin may change owner_bureau")
                continue
            status = data.status or state.status
            if contract == state.contract and status == state.status:
                local.unchanged += 1
                continue
            change = "cancel" if status == "cancelled" and state.status != "cancelled" else "update"
            if state.reference != ref:
                by_ref.pop(state.reference, None)
        by_ref[ref] = state.id
        cancellation = state.cancellation
        if change == "cancel":
            cancellation = {"at": now.isoformat(), "by": actor.id, "reason": "import"}
        elif status == "active":
            cancellation = None
        version = state.version + 1
        changes.append(_Change(state, item.line, change, contract, status, version, cancellation))
        state.version, state.contract, state.status = version, contract, status
        state.reference, state.owner, state.cancellation = ref, owner, cancellation
        if change == "create":
            local.created += 1
        else:
            local.updated += 1

    if changes:
        await _write_import(session, actor, changes, now, bus)
    report.created += local.created
    report.updated += local.updated
    report.unchanged += local.unchanged
    report.rejected += local.rejected
    report.errors.extend(local.errors)


async def _write_import(
    session: AsyncSession,
    actor: Actor,
    changes: list[_Change],
    now: datetime,
    bus: AlertBus | None,
) -> None:
    # Audit rows first: the counter lock is taken as late as possible.
    await session.execute(
        insert(AuditLog),
        [
            audit.audit_values(
                actor,
                f"watchlist.{c.change}",
                OBJECT_TYPE,
                c.state.id,
                {"version": c.version, "via": "import", "line": c.line},
                now,
            )
            for c in changes
        ],
    )
    # Cancelled through an import, as through the API: open alerts are withdrawn in this
    # transaction, and the ids withdrawn here are the ones published after the commit.
    withdrawn = await withdraw_alerts_of(
        session, actor, [c.state.id for c in changes if c.change == "cancel"]
    )
    last = await counters.next_value(session, counters.WATCHLIST_REVISION, len(changes))
    first = last - len(changes) + 1
    final: dict[str, dict[str, Any]] = {}
    versions: list[dict[str, Any]] = []
    for offset, c in enumerate(changes):
        doc = build_document(
            c.state.id,
            c.contract,
            status=c.status,
            version=c.version,
            revision=first + offset,
            created_at=c.state.created_at,
            created_by=c.state.created_by,
            updated_at=now,
            updated_by=actor.id,
            cancellation=c.cancellation,
        )
        final[c.state.id] = doc
        versions.append(
            {
                "entry_id": c.state.id,
                "version": c.version,
                "revision": doc["revision"],
                "change": c.change,
                "status": c.status,
                "document": doc,
                "changed_at": now,
                "changed_by": actor.id,
            }
        )
    states = {c.state.id: c.state for c in changes}
    new_rows = [
        {
            "id": i,
            "created_at": states[i].created_at,
            "created_by": states[i].created_by,
            **row_values(doc),
        }
        for i, doc in final.items()
        if not states[i].in_db
    ]
    updated_rows = [{"id": i, **row_values(doc)} for i, doc in final.items() if states[i].in_db]
    if new_rows:
        await session.execute(insert(WatchlistEntry), new_rows)
    if updated_rows:
        await session.execute(update(WatchlistEntry), updated_rows)
    await session.execute(insert(WatchlistEntryVersion), versions)
    await session.commit()
    await publish_current(session, bus, withdrawn)
    for state in states.values():
        state.in_db = True


async def record_import(session: AsyncSession, actor: Actor, report: ImportReport) -> None:
    """One audit row for a whole import (each change has its own row too), committed: the import
    is the unit of work, so its caller (the router, the CLI) never commits itself."""
    audit.record(
        session,
        actor,
        "watchlist.import",
        OBJECT_TYPE,
        None,
        {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
        },
    )
    await session.commit()
