"""`/v1/principals`: admins create, list and revoke principals; anyone may ask who they are."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from failsafe.auth import service
from failsafe.auth.deps import ActorDep, AdminDep, OptionalOidcDep, PrincipalDep
from failsafe.auth.schemas import (
    OfficerCreate,
    PrincipalCreate,
    PrincipalCreated,
    PrincipalOut,
    PrincipalPage,
)
from failsafe.contract import Role
from failsafe.errors import Unavailable
from failsafe.kit.bus import revocation
from failsafe.kit.codes import CountryCode
from failsafe.kit.limits import BodyLimitRoute
from failsafe.kit.openapi import error_responses
from failsafe.kit.pagination import cursor_key, encode_cursor
from failsafe.kit.state import AppState, SessionDep, StateDep

log = logging.getLogger(__name__)

# A broker away must not hold the admin's request for long: the heartbeat is the fallback.
_PUBLISH_TIMEOUT = 5.0

router = APIRouter(
    prefix="/v1/principals",
    tags=["principals"],
    route_class=BodyLimitRoute,
    responses=error_responses(401, 429),
)


@router.get("/me", summary="The calling principal")
async def whoami(principal: PrincipalDep) -> PrincipalOut:
    return PrincipalOut.model_validate(principal)


@router.get("", summary="List principals (admin)", responses=error_responses(400, 403))
async def list_principals(
    actor: AdminDep,
    session: SessionDep,
    role: Role | None = None,
    bureau: CountryCode | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PrincipalPage:
    after = cursor_key(cursor, "id", str)
    rows = await service.list_principals(
        session, after_id=after, limit=limit + 1, role=role, bureau_code=bureau
    )
    items = [PrincipalOut.model_validate(p) for p in rows[:limit]]
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return PrincipalPage(items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a principal (admin); the answer carries its token, shown only this once",
    responses=error_responses(400, 403, 413, 422),
)
async def create_principal(
    body: PrincipalCreate, actor: AdminDep, session: SessionDep
) -> PrincipalCreated:
    principal, token = await service.create_principal(
        session, role=body.role, bureau_code=body.bureau, name=body.name, actor=actor
    )
    return PrincipalCreated.model_validate(
        {**PrincipalOut.model_validate(principal).model_dump(), "token": token}
    )


@router.post(
    "/officers",
    status_code=status.HTTP_201_CREATED,
    summary="Create a named officer of a bureau (admins, or the bureau's own desk); the answer "
    "carries the officer's own token, shown only this once",
    responses=error_responses(400, 403, 413, 422),
)
async def create_officer(
    body: OfficerCreate, actor: ActorDep, session: SessionDep
) -> PrincipalCreated:
    principal, token = await service.create_officer(
        session, bureau_code=body.bureau, name=body.name, role=body.role, actor=actor
    )
    return PrincipalCreated.model_validate(
        {**PrincipalOut.model_validate(principal).model_dump(), "token": token}
    )


@router.get("/{principal_id}", summary="One principal (admin)", responses=error_responses(403, 404))
async def get_principal(principal_id: str, actor: AdminDep, session: SessionDep) -> PrincipalOut:
    return PrincipalOut.model_validate(await service.get_principal(session, principal_id))


@router.post(
    "/{principal_id}/revoke",
    summary="Revoke a principal's token (admin); idempotent. Its open websockets are closed "
    "(1008) on every replica. 409 for the last active admin, and for one's own token "
    "without ?confirm=true",
    responses=error_responses(403, 404, 409),
)
async def revoke_principal(
    principal_id: str,
    actor: AdminDep,
    session: SessionDep,
    state: StateDep,
    confirm: Annotated[
        bool, Query(description="required (true) to revoke the calling admin's own token")
    ] = False,
) -> PrincipalOut:
    principal = await service.revoke_principal(session, principal_id, actor, confirm_self=confirm)
    await close_sockets(state, principal.id)
    return PrincipalOut.model_validate(principal)


oidc_router = APIRouter(prefix="/v1/auth", tags=["principals"])


class OidcConfig(BaseModel):
    """What a browser needs to sign in through the identity provider (authorization code with
    PKCE): public values only; `enabled` false (and nothing else) when single sign-on is off."""

    enabled: bool
    issuer: str | None = None
    client_id: str | None = None
    scope: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None


@oidc_router.get(
    "/oidc",
    summary="The identity provider to sign in with (single sign-on), for the dashboard; "
    "`enabled: false` when it is off, 503 while the provider cannot be reached",
    responses=error_responses(503),
)
async def oidc_config(state: StateDep, verifier: OptionalOidcDep) -> OidcConfig:
    client_id = state.settings.auth.oidc.client_id
    if verifier is None or client_id is None:
        return OidcConfig(enabled=False)
    try:
        endpoints = await verifier.endpoints()
    except (OSError, ValueError, KeyError):
        raise Unavailable("the identity provider cannot be reached") from None
    return OidcConfig(
        enabled=True,
        issuer=verifier.issuer,
        client_id=client_id,
        scope=state.settings.auth.oidc.scope,
        authorization_endpoint=endpoints.authorization_endpoint,
        token_endpoint=endpoints.token_endpoint,
    )


async def close_sockets(state: AppState, principal_id: str) -> None:
    """Close a revoked principal's websockets now on every replica, not at their next heartbeat:
    the revocation travels on the alert bus, which every replica's hub reads."""
    if state.sockets is not None:
        # This replica's, even without a bus.
        state.sockets.close_principal(principal_id, "token revoked")
    try:
        async with asyncio.timeout(_PUBLISH_TIMEOUT):
            await state.bus.publish([revocation(principal_id)])
    except Exception:  # noqa: BLE001 (the revocation itself is committed)
        log.warning(
            "revocation of %s not published on the alert bus; other replicas close its "
            "sockets at their next heartbeat",
            principal_id,
        )
