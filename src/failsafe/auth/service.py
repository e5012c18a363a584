"""Principals: create (token shown once), authenticate, list, revoke; the bootstrap admin; one-time
websocket tickets.

Invariants: tokens and tickets are stored as SHA-256 only; a ticket authenticates at most once
(consumed by one conditional UPDATE, so two replicas racing for it cannot both win) and only
within `TICKET_TTL`; the last active admin cannot be revoked, nor an admin's own token without
`confirm_self`."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.actor import CLI_ACTOR, Actor
from failsafe.auth.tokens import (
    display_prefix,
    hash_token,
    looks_like_token,
    new_ticket,
    new_token,
)
from failsafe.contract import ROLES, PrincipalKind
from failsafe.db.base import utcnow
from failsafe.db.models import Bureau, Principal, StreamTicket
from failsafe.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from failsafe.kit.codes import is_country_code

BOOTSTRAP_ADMIN_ID = "bootstrap-admin"
# Recording every request's use would make each read a write; a few minutes' precision is enough.
_TOUCH_INTERVAL = timedelta(minutes=5)
# Long enough for a page to open its socket right after asking; short enough that a ticket seen
# in a log, a proxy or a browser's history is worthless by the time anyone reads it.
TICKET_TTL = timedelta(seconds=30)
# Tickets are deleted a while after they expire (when the next one is issued), not at once: a
# ticket row just expired still explains a refused socket to whoever looks.
_TICKET_RETENTION = timedelta(minutes=10)


async def ensure_bureau(session: AsyncSession, code: str) -> None:
    if await session.get(Bureau, code) is None:
        session.add(Bureau(code=code, name=f"{code} NCB"))
        await session.flush()


async def create_principal(
    session: AsyncSession,
    *,
    role: str,
    bureau_code: str | None,
    name: str,
    actor: Actor,
    token: str | None = None,
    principal_id: str | None = None,
    kind: PrincipalKind = "token",
) -> tuple[Principal, str]:
    """Create a principal and commit; returns it with its token (the only time it is visible)."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    if bureau_code is not None:
        bureau_code = bureau_code.strip().upper()
        if not is_country_code(bureau_code):
            raise BadRequest("bureau must be an alpha-3 country code")
    if role != "admin" and bureau_code is None:
        raise BadRequest(f"a {role} principal belongs to a bureau")
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise BadRequest("name must have 1 to 200 characters")
    token = token or new_token()
    if bureau_code is not None:
        await ensure_bureau(session, bureau_code)
    principal = Principal(
        id=principal_id or f"p_{secrets.token_hex(8)}",
        name=name,
        role=role,
        kind=kind,
        bureau_code=bureau_code,
        token_hash=hash_token(token),
        token_prefix=display_prefix(token),
        created_by=actor.id,
        created_at=utcnow(),
    )
    session.add(principal)
    audit.record(
        session,
        actor,
        "principal.create",
        "principal",
        principal.id,
        {"role": role, "bureau_code": bureau_code, "kind": kind},
    )
    await session.commit()
    return principal, token


async def create_officer(
    session: AsyncSession, *, bureau_code: str, name: str, role: str, actor: Actor
) -> tuple[Principal, str]:
    """Create a named officer of a bureau, with a token of their own (shown once); commits.

    Admins create officers in any bureau; a bureau's own `bureau` principal (its desk, the
    bureau's administrative role) only in its own bureau. An officer is never an admin: they
    see what their bureau sees, and act (and are audited) under their own name."""
    bureau_code = bureau_code.strip().upper()
    if not actor.is_admin and not (actor.role == "bureau" and actor.bureau_code == bureau_code):
        raise Forbidden("only admins and the bureau's own desk create its officers")
    if role == "admin":
        raise BadRequest("an officer belongs to a bureau: role admin is not allowed")
    return await create_principal(
        session, role=role, bureau_code=bureau_code, name=name, actor=actor, kind="officer"
    )


async def authenticate_token(session: AsyncSession, token: str) -> Principal:
    """The active principal holding `token`; Unauthorized for an unknown or revoked token.

    Also records when the principal was last seen (at most every few minutes, committed)."""
    if not looks_like_token(token):
        raise Unauthorized("invalid token")
    principal = await session.scalar(
        select(Principal).where(Principal.token_hash == hash_token(token))
    )
    if principal is None or principal.revoked_at is not None:
        raise Unauthorized("invalid or revoked token")
    now = utcnow()
    if principal.last_used_at is None or now - principal.last_used_at > _TOUCH_INTERVAL:
        await session.execute(
            update(Principal).where(Principal.id == principal.id).values(last_used_at=now)
        )
        await session.commit()
        principal.last_used_at = now
    return principal


async def list_principals(
    session: AsyncSession,
    *,
    after_id: str | None = None,
    limit: int = 100,
    role: str | None = None,
    bureau_code: str | None = None,
) -> Sequence[Principal]:
    query = select(Principal).order_by(Principal.id).limit(limit)
    if after_id is not None:
        query = query.where(Principal.id > after_id)
    if role is not None:
        query = query.where(Principal.role == role)
    if bureau_code is not None:
        query = query.where(Principal.bureau_code == bureau_code)
    return (await session.scalars(query)).all()


def sso_principal_id(issuer: str, subject: str) -> str:
    """The principal id of a person signed in through the identity provider: stable across
    sign-ins, derived from the provider's (issuer, subject), never from a name."""
    digest = hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()
    return f"sso_{digest[:24]}"


async def sso_principal(
    session: AsyncSession,
    *,
    issuer: str,
    subject: str,
    name: str,
    role: str,
    bureau_code: str | None,
) -> Principal:
    """The principal of a person the identity provider vouches for, created at their first
    sign-in and kept in step with their claims (role, bureau, name), so that they act, are
    audited and are named in alert histories as themselves; commits when anything changed.

    Unauthorized when an admin revoked it: revocation holds whatever the provider says. The row
    holds no token of ours: its `token_hash` is the hash of a string that is not a token, and no
    opaque token can match it."""
    principal_id = sso_principal_id(issuer, subject)
    principal = await session.get(Principal, principal_id)
    now = utcnow()
    if principal is None:
        if bureau_code is not None:
            await ensure_bureau(session, bureau_code)
        principal = Principal(
            id=principal_id,
            name=name,
            role=role,
            kind="sso",
            bureau_code=bureau_code,
            token_hash=hash_token(f"sso:{principal_id}"),
            token_prefix="sso",  # noqa: S106 (a label: this principal has no token)
            created_by="oidc",
            created_at=now,
            last_used_at=now,
        )
        session.add(principal)
        audit.record(
            session,
            Actor.of(principal),
            "principal.sso_create",
            "principal",
            principal_id,
            {"role": role, "bureau_code": bureau_code, "kind": "sso"},
        )
        await session.commit()
        return principal
    if principal.revoked_at is not None:
        raise Unauthorized("invalid or revoked token")
    changed = (principal.role, principal.bureau_code) != (role, bureau_code)
    if changed or principal.name != name:
        if bureau_code is not None:
            await ensure_bureau(session, bureau_code)
        if changed:
            audit.record(
                session,
                Actor.of(principal),
                "principal.sso_update",
                "principal",
                principal_id,
                {"role": role, "bureau_code": bureau_code},
            )
        principal.name, principal.role, principal.bureau_code = name, role, bureau_code
        principal.last_used_at = now
        await session.commit()
    elif principal.last_used_at is None or now - principal.last_used_at > _TOUCH_INTERVAL:
        principal.last_used_at = now
        await session.commit()
    return principal


async def principal_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    """The display names of the principals with these ids (unknown ids are left out)."""
    if not ids:
        return {}
    rows = await session.execute(select(Principal.id, Principal.name).where(Principal.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def get_principal(session: AsyncSession, principal_id: str) -> Principal:
    principal = await session.get(Principal, principal_id)
    if principal is None:
        raise NotFound("no such principal")
    return principal


async def revoke_principal(
    session: AsyncSession, principal_id: str, actor: Actor, *, confirm_self: bool = False
) -> Principal:
    """Revoke and commit; revoking twice keeps the first time.

    Refused (Conflict) for the last active admin: nobody could then manage principals through
    the API. Revoking one's own token is refused unless `confirm_self` (the API's
    `?confirm=true`): one click must not sign an admin out for good by mistake."""
    principal = await get_principal(session, principal_id)
    if principal.revoked_at is not None:
        return principal
    if principal.role == "admin":
        # Locked so that two admins revoking each other at once cannot both succeed.
        admins = (
            await session.scalars(
                select(Principal.id)
                .where(Principal.role == "admin", Principal.revoked_at.is_(None))
                .with_for_update()
            )
        ).all()
        if set(admins) <= {principal.id}:
            raise Conflict("this is the last active admin: create another admin first")
    if principal.id == actor.id and not confirm_self:
        raise Conflict("this is your own token: revoke it with ?confirm=true")
    principal.revoked_at = utcnow()
    audit.record(session, actor, "principal.revoke", "principal", principal.id, {})
    await session.commit()
    return principal


async def principal_is_active(session: AsyncSession, principal_id: str) -> bool:
    revoked = await session.execute(
        select(Principal.revoked_at).where(Principal.id == principal_id)
    )
    row = revoked.first()
    return row is not None and row[0] is None


async def issue_stream_ticket(session: AsyncSession, principal: Principal) -> str:
    """A new one-time websocket ticket for `principal`, valid for `TICKET_TTL`; commits."""
    ticket = new_ticket()
    now = utcnow()
    await session.execute(
        delete(StreamTicket).where(StreamTicket.expires_at < now - _TICKET_RETENTION)
    )
    session.add(
        StreamTicket(
            ticket_hash=hash_token(ticket),
            principal_id=principal.id,
            created_at=now,
            expires_at=now + TICKET_TTL,
        )
    )
    await session.commit()
    return ticket


async def redeem_stream_ticket(session: AsyncSession, ticket: str) -> Principal:
    """The active principal a ticket was issued to, consuming the ticket (commits).

    Unauthorized for an unknown, used or expired ticket, and for a revoked principal. The
    UPDATE ... WHERE used_at IS NULL AND expires_at > now is the whole check: the database
    decides which of two concurrent uses wins, on whichever replica each one arrives."""
    if not looks_like_token(ticket):
        raise Unauthorized("invalid ticket")
    now = utcnow()
    principal_id = await session.scalar(
        update(StreamTicket)
        .where(
            StreamTicket.ticket_hash == hash_token(ticket),
            StreamTicket.used_at.is_(None),
            StreamTicket.expires_at > now,
        )
        .values(used_at=now)
        .returning(StreamTicket.principal_id)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if principal_id is None:
        raise Unauthorized("invalid, used or expired ticket")
    principal = await session.get(Principal, principal_id)
    if principal is None or principal.revoked_at is not None:
        raise Unauthorized("invalid or revoked token")
    return principal


async def ensure_bootstrap_admin(session: AsyncSession, token: str) -> None:
    """Make `token` an admin's (settings.auth.bootstrap_admin_token), for a first run.

    A bootstrap admin revoked through the API stays revoked: restarting must not undo that."""
    existing = await session.get(Principal, BOOTSTRAP_ADMIN_ID)
    if existing is None:
        await create_principal(
            session,
            role="admin",
            bureau_code=None,
            name="bootstrap admin",
            actor=CLI_ACTOR,
            token=token,
            principal_id=BOOTSTRAP_ADMIN_ID,
        )
    elif existing.revoked_at is None and existing.token_hash != hash_token(token):
        existing.token_hash = hash_token(token)
        existing.token_prefix = display_prefix(token)
        await session.commit()
