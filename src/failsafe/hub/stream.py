"""Opening and keeping an alert stream, as a service: who may stream, authenticating a socket's
credential (under the failed-authentication budget), auditing the opening, acks, and the
periodic re-check of the credential. The router only maps the outcome to close codes.

Invariants: a stream is audited (`alert.stream`) and committed before its first frame; a ticket
authenticates once (failsafe.auth.service); admins stream every alert, everyone else their own
bureau's, and only the roles in `STREAM_ROLES` with a bureau (or admins) stream at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts import service as alerts
from failsafe.auth.deps import authenticate_limited
from failsafe.auth.service import (
    authenticate_token,
    issue_stream_ticket,
    principal_is_active,
    redeem_stream_ticket,
)
from failsafe.db.models import Principal
from failsafe.errors import Forbidden, Unauthorized
from failsafe.kit.ratelimit import FailureLimiter

STREAM_ROLES = frozenset({"admin", "bureau", "analyst"})


@dataclass(frozen=True, slots=True)
class Credential:
    """What a socket presented: a bearer token, or a one-time ticket."""

    kind: Literal["token", "ticket"]
    secret: str


def may_stream(principal: Principal) -> bool:
    return principal.role in STREAM_ROLES and (
        principal.role == "admin" or bool(principal.bureau_code)
    )


async def new_ticket(session: AsyncSession, principal: Principal) -> str:
    """A one-time ticket for `principal` (Forbidden for a role that may not stream); commits."""
    if not may_stream(principal):
        raise Forbidden(f"role {principal.role} may not receive alerts")
    return await issue_stream_ticket(session, principal)


async def open_stream(
    sessions: async_sessionmaker[AsyncSession],
    limiter: FailureLimiter,
    client: str,
    credential: Credential,
) -> Actor:
    """The actor a stream is opened for, audited and committed. Raises Unauthorized,
    TooManyRequests (over the failure budget) or Forbidden (a role that may not stream)."""
    check = redeem_stream_ticket if credential.kind == "ticket" else authenticate_token
    async with sessions() as session:
        principal = await authenticate_limited(
            session, limiter, client, credential.secret, check=check
        )
        actor = Actor.of(principal)
        if not may_stream(principal):
            raise Forbidden(f"role {actor.role} may not receive alerts")
        audit.record(session, actor, "alert.stream", "bureau", actor.bureau_code, {})
        await session.commit()
    return actor


async def store_ack(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, alert_id: int
) -> bool:
    async with sessions() as session:
        return await alerts.record_ack(session, actor, alert_id)


async def still_valid(
    sessions: async_sessionmaker[AsyncSession], actor: Actor, credential: Credential
) -> bool:
    """Whether the stream may go on. A ticket is spent: what must still hold is the principal's
    standing (and, for a token, the token itself, which a bootstrap admin's restart may have
    replaced)."""
    async with sessions() as session:
        if credential.kind == "ticket":
            return await principal_is_active(session, actor.id)
        try:
            await authenticate_token(session, credential.secret)
        except Unauthorized:
            return False
        return True
