"""FastAPI dependencies: the authenticated principal, role checks, the failed-auth rate limit."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from failsafe.auth.ratelimit import FailureLimiter
from failsafe.auth.service import Actor, Role, authenticate_token, ensure_bootstrap_admin
from failsafe.auth.tokens import looks_like_token
from failsafe.db.models import Principal
from failsafe.errors import Forbidden, TooManyRequests, Unauthorized
from failsafe.kit.state import AppState, SessionDep, StateDep

log = logging.getLogger(__name__)

LIMITER_SERVICE = "auth.failures"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An opaque token (`fs_...`) from `failsafe principal create` or "
    "`POST /v1/principals`: `Authorization: Bearer fs_...`.",
)


def failure_limiter(state: AppState) -> FailureLimiter:
    limiter = state.services.get(LIMITER_SERVICE)
    if not isinstance(limiter, FailureLimiter):
        limiter = FailureLimiter(state.settings.auth.max_failures_per_minute)
        state.services[LIMITER_SERVICE] = limiter
    return limiter


def client_address(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so that this is the real client.
    return request.client.host if request.client else "unknown"


async def current_principal(
    request: Request,
    session: SessionDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller's principal: 401 without a valid token, 429 after too many failures."""
    client = client_address(request)
    limiter = failure_limiter(state)
    # Checked before the token: once an address is blocked, even a right guess gains nothing.
    wait = limiter.retry_after(client)
    if wait > 0:
        raise TooManyRequests(
            "too many failed authentications; retry later",
            details=[{"retry_after": math.ceil(wait)}],
        )
    if credentials is None:
        raise Unauthorized("missing bearer token")
    try:
        return await authenticate_token(session, credentials.credentials)
    except Unauthorized:
        limiter.record_failure(client)
        log.info("authentication failed from %s", client)  # never the token itself
        raise


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def current_actor(principal: PrincipalDep) -> Actor:
    return Actor.of(principal)


ActorDep = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: Role) -> Callable[[PrincipalDep], Awaitable[Actor]]:
    """A dependency admitting only the given roles (403 for the others), returning the Actor:

    AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
    """
    allowed = frozenset(roles)

    async def dependency(principal: PrincipalDep) -> Actor:
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role} may not do this")
        return Actor.of(principal)

    return dependency


AdminDep = Annotated[Actor, Depends(require_roles("admin"))]


async def on_startup(state: AppState) -> None:
    """Called from the app's lifespan: the failure limiter, and the bootstrap admin if set."""
    failure_limiter(state)
    token = state.settings.auth.bootstrap_admin_token
    if token is None:
        return
    secret = token.get_secret_value()
    if not looks_like_token(secret):
        log.error("bootstrap admin token ignored: it needs 16 to 128 characters")
        return
    try:
        async with state.sessionmaker() as session:
            await ensure_bootstrap_admin(session, secret)
    except (SQLAlchemyError, OSError):
        # The database may not be migrated or reachable yet: /readyz reports it; the admin is
        # created at the next start.
        log.exception("could not create the bootstrap admin")
