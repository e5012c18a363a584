"""FastAPI dependencies: the authenticated principal, role checks, the failed-auth rate limit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.actor import Actor
from failsafe.auth.oidc import OidcVerifier, looks_like_jwt
from failsafe.auth.service import (
    BOOTSTRAP_ADMIN_ID,
    authenticate_token,
    ensure_bootstrap_admin,
    sso_principal,
)
from failsafe.auth.tokens import looks_like_token
from failsafe.contract import Role
from failsafe.db.models import Principal
from failsafe.errors import Forbidden, TooManyRequests, Unauthorized
from failsafe.kit import metrics as kit_metrics
from failsafe.kit.ratelimit import FailureLimiter
from failsafe.kit.state import AppState, SessionDep, StateDep

log = logging.getLogger(__name__)

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An opaque token (`fs_...`) from `failsafe principal create` or "
    "`POST /v1/principals`: `Authorization: Bearer fs_...`.",
)


def client_address(request: Request) -> str:
    """The client's address as uvicorn resolved it: the peer, or the `X-Forwarded-For` client
    when the peer is one of `server.forwarded_allow_ips` (no proxy is trusted by default)."""
    return request.client.host if request.client else "unknown"


async def authenticate_limited(
    session: AsyncSession,
    limiter: FailureLimiter,
    client: str,
    token: str,
    *,
    check: Callable[[AsyncSession, str], Awaitable[Principal]] = authenticate_token,
) -> Principal:
    """The principal of `token` (or of a websocket ticket, with `check`), under the per-address
    failure budget.

    Only failures are limited, never a valid token: one bureau's desks behind one NAT address
    share a budget, and a mistyped or stale token at one desk must not lock out the others.
    Once an address is over its budget, a presented token is still checked: a valid one
    authenticates, a failing one gets 429 (with `Retry-After`) instead of 401 and extends the
    block. That this still lets an attacker over the budget learn when a guess is right is
    harmless for the tokens we generate: 256 random bits, out of reach at any rate, so the
    budget was never what protected them; it bounds the noise of failures and flags the
    address. The one secret an operator may choose (`auth.bootstrap_admin_token`, 16 characters
    at least) could be weak: it does not authenticate from an address over its budget, and
    answers exactly as a failure does (429), so guessing it stays rate-limited."""
    over_budget = limiter.retry_after(client) > 0
    try:
        principal = await check(session, token)
    except Unauthorized:
        limiter.record_failure(client)
        kit_metrics.AUTH_FAILURES.inc()
        log.info("authentication failed from %s", client)  # never the token itself
        if over_budget:
            raise _rate_limited(limiter, client) from None
        raise
    if over_budget and principal.id == BOOTSTRAP_ADMIN_ID:
        limiter.record_failure(client)
        raise _rate_limited(limiter, client)
    return principal


def _rate_limited(limiter: FailureLimiter, client: str) -> TooManyRequests:
    kit_metrics.RATE_LIMITED.inc()
    return TooManyRequests.retry_in(
        "too many failed authentications; retry later", limiter.retry_after(client)
    )


async def current_principal(
    request: Request,
    session: SessionDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller's principal: 401 without a valid token, 429 for a failing one from an address
    over its failure budget (see `authenticate_limited`)."""
    if credentials is None:
        kit_metrics.AUTH_FAILURES.inc()
        raise Unauthorized("missing bearer token")
    token = credentials.credentials
    verifier = state.services.find(OidcVerifier)
    if verifier is not None and looks_like_jwt(token):
        # The provider's token (single sign-on), under the same failure budget as ours.
        return await authenticate_limited(
            session, state.limiter, client_address(request), token, check=sso_check(verifier)
        )
    return await authenticate_limited(session, state.limiter, client_address(request), token)


def sso_check(verifier: OidcVerifier) -> Callable[[AsyncSession, str], Awaitable[Principal]]:
    """`authenticate_limited`'s check for the identity provider's JWTs: verified against its
    keys, then the signed-in person's own principal (created at their first sign-in)."""

    async def check(session: AsyncSession, token: str) -> Principal:
        who = verifier.identity(await verifier.verify(token))
        return await sso_principal(
            session,
            issuer=who.issuer,
            subject=who.subject,
            name=who.name,
            role=who.role,
            bureau_code=who.bureau_code,
        )

    return check


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
    """Called from the app's lifespan: the bootstrap admin, if set."""
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


def find_oidc(state: StateDep) -> OidcVerifier | None:
    """The single sign-on verifier, when this process runs one (FAILSAFE_AUTH__OIDC__ISSUER)."""
    return state.services.find(OidcVerifier)


OptionalOidcDep = Annotated[OidcVerifier | None, Depends(find_oidc)]
