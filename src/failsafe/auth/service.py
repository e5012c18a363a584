"""Principals: create (token shown once), authenticate, list, revoke; the bootstrap admin."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

import failsafe.audit.service as audit
from failsafe.auth.tokens import display_prefix, hash_token, looks_like_token, new_token
from failsafe.db.base import utcnow
from failsafe.db.models import Bureau, Principal
from failsafe.errors import BadRequest, NotFound, Unauthorized
from failsafe.kit.codes import is_country_code

Role = Literal["admin", "analyst", "bureau", "border"]
ROLES: tuple[str, ...] = get_args(Role)
BOOTSTRAP_ADMIN_ID = "bootstrap-admin"
# Recording every request's use would make each read a write; a few minutes' precision is enough.
_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as services see it: a principal, or the operator at the command line."""

    id: str
    role: str
    bureau_code: str | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(id=principal.id, role=principal.role, bureau_code=principal.bureau_code)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# The `failsafe` CLI runs with the operator's database credentials: it acts as an admin.
CLI_ACTOR = Actor(id="cli", role="admin", bureau_code=None)


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
        {"role": role, "bureau_code": bureau_code},
    )
    await session.commit()
    return principal, token


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


async def get_principal(session: AsyncSession, principal_id: str) -> Principal:
    principal = await session.get(Principal, principal_id)
    if principal is None:
        raise NotFound("no such principal")
    return principal


async def revoke_principal(session: AsyncSession, principal_id: str, actor: Actor) -> Principal:
    """Revoke and commit; revoking twice keeps the first time."""
    principal = await get_principal(session, principal_id)
    if principal.revoked_at is None:
        principal.revoked_at = utcnow()
        audit.record(session, actor, "principal.revoke", "principal", principal.id, {})
        await session.commit()
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
