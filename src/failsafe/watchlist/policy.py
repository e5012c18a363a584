"""Who may see and change which watchlist entry: one rule, on a row and as SQL.

Admins see everything. Another principal sees an entry when it belongs to the principal's bureau,
or when that bureau is not in `distribution.deny` and the mode is `all` or the bureau is in
`distribution.allow`. Invisible entries answer 404, never 403, and never appear in lists, not
even as a count. Only the owner bureau's analysts (or an admin) change an entry, and only an
admin moves it to another bureau.

Invariant: `can_see` and `visibility_clause` state the same rule (the distribution columns hold
bureau codes as ` FRA ITA `, so a code matches as a whole word in both).
"""

from __future__ import annotations

from sqlalchemy import and_, false, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from failsafe.actor import Actor
from failsafe.db.models import WatchlistEntry
from failsafe.errors import Forbidden, NotFound, Unprocessable


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


def row_visible(actor: Actor, row: WatchlistEntry) -> bool:
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


async def visible_entry(
    session: AsyncSession, actor: Actor, entry_id: str, *, for_update: bool = False
) -> WatchlistEntry:
    query = select(WatchlistEntry).where(WatchlistEntry.id == entry_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None or not row_visible(actor, row):
        raise NotFound("no such watchlist entry")
    return row


def resolve_owner(actor: Actor, requested: str | None) -> str:
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


def check_can_write(actor: Actor, row: WatchlistEntry) -> None:
    if not actor.is_admin and row.owner_bureau != actor.bureau_code:
        raise Forbidden("only the owner bureau's analysts (or an admin) may change this entry")
