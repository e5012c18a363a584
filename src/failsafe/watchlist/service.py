"""Watchlist entries: create, read, list, change, cancel, history, movement timeline, bulk import.

Every change writes, in one transaction: the entry's new state, a `watchlist_entry_version` row,
an audit row, and the next global watchlist revision, which is taken last (it locks the counter
row until commit; see failsafe.db.counters). Every read of personal data is audited too.

Who may see what (`can_see`, `visibility_clause`): admins see everything. Another principal sees
an entry when it belongs to the principal's bureau, or when that bureau is not in
`distribution.deny` and the mode is `all` or the bureau is in `distribution.allow`. Invisible
entries answer 404, never 403, and never appear in lists, not even as a count.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, false, insert, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts.service import publish_current, withdraw_open_alerts
from failsafe.db import counters
from failsafe.db.base import utcnow
from failsafe.db.models import (
    Alert,
    AlertRecipient,
    AuditLog,
    Sighting,
    WatchlistEntry,
    WatchlistEntryVersion,
)
from failsafe.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable
from failsafe.kit.bus import AlertBus
from failsafe.kit.validation import validation_details
from failsafe.watchlist.schemas import (
    CONTRACT_KEYS,
    READ_ONLY_KEYS,
    EntryIn,
    ImportReport,
    RejectedLine,
)
from failsafe.watchlist.search import query_tokens, search_text

READ_ROLES = ("admin", "analyst", "bureau")
WRITE_ROLES = ("admin", "analyst")
OBJECT_TYPE = "watchlist_entry"
MAX_TIMELINE = 1000


# --- identity, visibility, documents -------------------------------------------------------


def new_entry_id() -> str:
    """32 hex characters, time-ordered (ms) then random: lists ordered by id follow creation."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def _codes_text(codes: Sequence[str]) -> str:
    return f" {' '.join(codes)} " if codes else ""


def can_see(actor: Actor, owner_bureau: str, mode: str, allow: str, deny: str) -> bool:
    """The rule of the module docstring, on one entry's columns."""
    if actor.is_admin:
        return True
    bureau = actor.bureau_code
    if bureau is None:
        return False
    if owner_bureau == bureau:
        return True
    if f" {bureau} " in deny:
        return False
    return mode == "all" or f" {bureau} " in allow


def _row_visible(actor: Actor, row: WatchlistEntry) -> bool:
    return can_see(
        actor,
        row.owner_bureau,
        row.distribution_mode,
        row.distribution_allow,
        row.distribution_deny,
    )


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The same rule as SQL, for lists; None when the actor sees everything."""
    if actor.is_admin:
        return None
    bureau = actor.bureau_code
    if bureau is None:
        return false()
    token = f"% {bureau} %"
    e = WatchlistEntry
    return or_(
        e.owner_bureau == bureau,
        and_(
            not_(e.distribution_deny.like(token)),
            or_(e.distribution_mode == "all", e.distribution_allow.like(token)),
        ),
    )


def effective_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    if status == "active" and expires_at is not None and expires_at <= now:
        return "expired"
    return status


def entry_json(row: WatchlistEntry, now: datetime | None = None) -> dict[str, Any]:
    """The entry as the API answers it: the stored document, with the status as of now."""
    doc = dict(row.document)
    doc["status"] = effective_status(row.status, row.expires_at, now or utcnow())
    return doc


def _as_now(doc: dict[str, Any]) -> dict[str, Any]:
    """A freshly written document as the API answers it (an expired notice reads `expired`)."""
    expires_at = _parse_ts(doc["notice"].get("expires_at"))
    return {**doc, "status": effective_status(doc["status"], expires_at, utcnow())}


def _parse_ts(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def build_document(
    entry_id: str,
    contract: dict[str, Any],
    *,
    status: str,
    version: int,
    revision: int,
    created_at: datetime,
    created_by: str | None,
    updated_at: datetime,
    updated_by: str | None,
    cancellation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": entry_id, **contract}
    doc.update(
        status=status,
        version=version,
        revision=revision,
        created_at=created_at.isoformat(),
        updated_at=updated_at.isoformat(),
        created_by=created_by,
        updated_by=updated_by,
    )
    if cancellation is not None:
        doc["cancellation"] = cancellation
    return doc


def row_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The entry table's columns derived from a document (everything but created_*)."""
    distribution = doc.get("distribution") or {}
    notice = doc["notice"]
    return {
        "notice_type": notice["type"],
        "notice_reference": notice["reference"],
        "owner_bureau": doc["owner_bureau"],
        "status": doc["status"],
        "distribution_mode": distribution.get("mode", "all"),
        "distribution_allow": _codes_text(distribution.get("allow", ())),
        "distribution_deny": _codes_text(distribution.get("deny", ())),
        "version": doc["version"],
        "revision": doc["revision"],
        "search_text": search_text(doc["subject"]),
        "document": doc,
        "expires_at": _parse_ts(notice.get("expires_at")),
        "updated_at": datetime.fromisoformat(doc["updated_at"]),
        "updated_by": doc["updated_by"],
    }


def contract_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in CONTRACT_KEYS if k in doc}


def changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths (two levels deep) whose values differ: what an audit row may say."""
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if not prefix and isinstance(a, dict) and isinstance(b, dict):
            out.extend(changed_fields(a, b, f"{path}."))
        else:
            out.append(path)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _patch_dates_of_birth(
    current: dict[str, Any], patch: dict[str, Any], merged: dict[str, Any]
) -> None:
    """Make a merge patch of one of the two date-of-birth fields mean what its sender meant.

    `date_of_birth` is the shorthand for the first item of `dates_of_birth`, and validation puts
    it first in the list. Merged naively, a patch of one field would keep the other's stale
    value: a new `date_of_birth` would be added beside the old one instead of replacing it, and
    a new list would get the old shorthand back in front. So: a patch that changes only
    `date_of_birth` replaces (or, with null, removes) the old shorthand's item in the list; one
    that changes only `dates_of_birth` drops the shorthand, which is then read off the new list.
    A field sent back unchanged (read-modify-write) counts as not changed; changing both takes
    both, the shorthand first."""
    subject_patch = patch.get("subject")
    old = current.get("subject")
    new = merged.get("subject")
    if not (isinstance(subject_patch, dict) and isinstance(old, dict) and isinstance(new, dict)):
        return
    old_first = old.get("date_of_birth")
    old_list = old.get("dates_of_birth")
    if not isinstance(old_list, list):
        old_list = [old_first] if old_first is not None else []
    first_changed = (
        "date_of_birth" in subject_patch and subject_patch["date_of_birth"] != old_first
    )
    list_changed = (
        "dates_of_birth" in subject_patch and subject_patch["dates_of_birth"] != old_list
    )
    if first_changed and not list_changed:
        replacement = subject_patch["date_of_birth"]
        items = [item for item in old_list if item != old_first]
        new["dates_of_birth"] = items if replacement is None else [replacement, *items]
    elif list_changed and not first_changed:
        new.pop("date_of_birth", None)


def _resolve_owner(actor: Actor, requested: str | None) -> str:
    if actor.is_admin:
        if requested is None:
            raise Unprocessable(
                "owner_bureau is required",
                [{"loc": ["body", "owner_bureau"], "msg": "Field required", "type": "missing"}],
            )
        return requested
    if requested is not None and requested != actor.bureau_code:
        raise Forbidden("analysts create entries for their own bureau only")
    assert actor.bureau_code is not None
    return actor.bureau_code


def _check_can_write(actor: Actor, row: WatchlistEntry) -> None:
    if not actor.is_admin and row.owner_bureau != actor.bureau_code:
        raise Forbidden("only the owner bureau's analysts (or an admin) may change this entry")


# --- create, read, list ----------------------------------------------------------------------


async def create_entry(session: AsyncSession, actor: Actor, data: EntryIn) -> dict[str, Any]:
    owner = _resolve_owner(actor, data.owner_bureau)
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
        session.add(_version_row(entry_id, doc, "create", now, actor.id))
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("an entry with this id or notice reference already exists") from None
    return _as_now(doc)


def _version_row(
    entry_id: str, doc: dict[str, Any], change: str, at: datetime, by: str | None
) -> WatchlistEntryVersion:
    return WatchlistEntryVersion(
        entry_id=entry_id,
        version=doc["version"],
        revision=doc["revision"],
        change=change,
        status=doc["status"],
        document=doc,
        changed_at=at,
        changed_by=by,
    )


async def _visible_entry(
    session: AsyncSession, actor: Actor, entry_id: str, *, for_update: bool = False
) -> WatchlistEntry:
    query = select(WatchlistEntry).where(WatchlistEntry.id == entry_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None or not _row_visible(actor, row):
        raise NotFound("no such watchlist entry")
    return row


async def read_entry(session: AsyncSession, actor: Actor, entry_id: str) -> dict[str, Any]:
    row = await _visible_entry(session, actor, entry_id)
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
    withdrawn: list[int] = []
    if status != "active":
        withdrawn = await withdraw_open_alerts(session, row.id, actor, commit=False)
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
    session.add(_version_row(row.id, doc, change, now, actor.id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("the notice reference belongs to another entry") from None
    await publish_current(session, bus, withdrawn)
    return _as_now(doc)


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
    row = await _visible_entry(session, actor, entry_id, for_update=True)
    _check_can_write(actor, row)
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
    _patch_dates_of_birth(current, patch, merged)
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
    row = await _visible_entry(session, actor, entry_id, for_update=True)
    _check_can_write(actor, row)
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


# --- history and timeline --------------------------------------------------------------------


async def entry_versions(
    session: AsyncSession, actor: Actor, entry_id: str, *, after_version: int, limit: int
) -> tuple[list[WatchlistEntryVersion], bool]:
    await _visible_entry(session, actor, entry_id)
    rows = (
        await session.scalars(
            select(WatchlistEntryVersion)
            .where(
                WatchlistEntryVersion.entry_id == entry_id,
                WatchlistEntryVersion.version > after_version,
            )
            .order_by(WatchlistEntryVersion.version)
            .limit(limit + 1)
        )
    ).all()
    page = list(rows[:limit])
    audit.record(
        session,
        actor,
        "watchlist.versions",
        OBJECT_TYPE,
        entry_id,
        {"versions": [v.version for v in page]},
    )
    await session.commit()
    return page, len(rows) > limit


@dataclass
class TimelineResult:
    rows: list[tuple[Alert, Sighting]] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


async def entry_sightings(session: AsyncSession, actor: Actor, entry_id: str) -> TimelineResult:
    """Sightings of the entry in time order and the path of countries they trace.

    The owner bureau and admins see every sighting; another bureau that may see the entry sees
    the sightings whose alerts were routed to it (what it was entitled to receive anyway)."""
    row = await _visible_entry(session, actor, entry_id)
    query = (
        select(Alert, Sighting)
        .join(Sighting, Alert.sighting_id == Sighting.id)
        .where(Alert.entry_id == entry_id)
        .order_by(Sighting.occurred_at, Alert.id)
        .limit(MAX_TIMELINE)
    )
    if not actor.is_admin and actor.bureau_code != row.owner_bureau:
        query = query.where(
            select(AlertRecipient.alert_id)
            .where(
                AlertRecipient.alert_id == Alert.id,
                AlertRecipient.bureau_code == actor.bureau_code,
            )
            .exists()
        )
    result = TimelineResult(rows=[(a, s) for a, s in (await session.execute(query)).all()])
    for _alert, sighting in result.rows:
        for country in sighting.route_countries or ([sighting.country] if sighting.country else []):
            if not result.countries or result.countries[-1] != country:
                result.countries.append(country)
    audit.record(
        session,
        actor,
        "watchlist.sightings",
        OBJECT_TYPE,
        entry_id,
        {"alerts": [a.id for a, _ in result.rows]},
    )
    await session.commit()
    return result


# --- bulk import -----------------------------------------------------------------------------


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
    # transaction, and the ids withdrawn here are the ones published after the commit (without
    # a bus, as in the CLI, sockets learn the status on their next replay).
    withdrawn: list[int] = []
    for c in changes:
        if c.change == "cancel":
            withdrawn += await withdraw_open_alerts(session, c.state.id, actor, commit=False)
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


def record_import(session: AsyncSession, actor: Actor, report: ImportReport) -> None:
    """One audit row for a whole import (each change has its own row too)."""
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
