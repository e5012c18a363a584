"""The websocket endpoint `/v1/alerts/stream` (DESIGN.md "Websocket"): authentication, then the
hub's stream for the caller's bureau (see failsafe.hub.connection for the protocol); and
`POST /v1/alerts/stream/ticket`, the one-time tickets browsers connect with.

A socket authenticates with, in order: an `Authorization: Bearer` header, `?ticket=` (one-time,
30 s, from the ticket endpoint: what the dashboard uses, since a browser cannot set headers on a
websocket), or `?token=` (kept for existing clients; a URL's query string is what access logs and
proxies record, so failsafe's logs redact it, but a ticket is worthless once read). Failures
count against the caller's address like the API's (failsafe.auth.deps.authenticate_limited).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, Field

import failsafe.audit.service as audit
from failsafe.actor import Actor
from failsafe.alerts import service as alerts
from failsafe.auth.deps import PrincipalDep, authenticate_limited
from failsafe.auth.service import (
    TICKET_TTL,
    authenticate_token,
    issue_stream_ticket,
    principal_is_active,
    redeem_stream_ticket,
)
from failsafe.db.models import Principal
from failsafe.errors import Forbidden, TooManyRequests, Unauthorized, dependency_unavailable
from failsafe.hub.connection import CLOSE_POLICY, Connection, StreamSession
from failsafe.hub.service import Hub
from failsafe.kit.openapi import error_responses
from failsafe.kit.state import AppState, SessionDep

router = APIRouter(tags=["alerts"])

STREAM_ROLES = frozenset({"admin", "bureau", "analyst"})
CLOSE_TRY_LATER = 1013  # RFC 6455 "Try Again Later"

Credential = tuple[Literal["token", "ticket"], str]


class StreamTicketOut(BaseModel):
    ticket: str = Field(description="connect with /v1/alerts/stream?ticket=...; usable once")
    expires_in: int = Field(description="seconds the ticket stays valid")


def _may_stream(principal: Principal) -> bool:
    return principal.role in STREAM_ROLES and (
        principal.role == "admin" or bool(principal.bureau_code)
    )


@router.post(
    "/v1/alerts/stream/ticket",
    summary="A one-time ticket to open the alert stream with (?ticket=), valid for 30 s",
    responses=error_responses(401, 403, 429),
)
async def stream_ticket(principal: PrincipalDep, session: SessionDep) -> StreamTicketOut:
    if not _may_stream(principal):
        raise Forbidden(f"role {principal.role} may not receive alerts")
    ticket = await issue_stream_ticket(session, principal)
    return StreamTicketOut(ticket=ticket, expires_in=int(TICKET_TTL.total_seconds()))


def _credential(websocket: WebSocket) -> Credential | None:
    header = websocket.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return "token", value.strip()
        return None
    if ticket := websocket.query_params.get("ticket"):
        return "ticket", ticket
    if token := websocket.query_params.get("token"):
        return "token", token
    return None


@router.websocket("/v1/alerts/stream")
async def alert_stream(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.failsafe
    hub = state.services.find(Hub)
    credential = _credential(websocket)
    # Accept first so that refusals carry a close code (1008) the client can read, rather than
    # an HTTP 403 from the handshake.
    await websocket.accept()
    if hub is None or not hub.ready:
        await websocket.close(CLOSE_TRY_LATER, "not ready; retry")
        return
    if credential is None:
        await websocket.close(CLOSE_POLICY, "missing bearer token")
        return
    kind, secret = credential
    client = websocket.client.host if websocket.client else "unknown"
    try:
        async with state.sessionmaker() as session:
            principal = await authenticate_limited(
                session,
                state.limiter,
                client,
                secret,
                check=redeem_stream_ticket if kind == "ticket" else authenticate_token,
            )
            actor = Actor.of(principal)
            if not _may_stream(principal):
                await websocket.close(CLOSE_POLICY, f"role {actor.role} may not receive alerts")
                return
            audit.record(session, actor, "alert.stream", "bureau", actor.bureau_code, {})
            await session.commit()
    except TooManyRequests:
        await websocket.close(CLOSE_POLICY, "too many failed authentications; retry later")
        return
    except Unauthorized:
        await websocket.close(CLOSE_POLICY, f"invalid {kind}")
        return
    except Exception as exc:
        if not dependency_unavailable(exc):
            raise
        # The database is away: say so with a close code the client can act on (1013: try
        # again later), rather than dropping the socket without a close frame.
        await websocket.close(CLOSE_TRY_LATER, "database unavailable; retry")
        return

    async def store_ack(alert_id: int) -> bool:
        async with state.sessionmaker() as session:
            return await alerts.record_ack(session, actor, alert_id)

    async def reauthenticate() -> bool:
        # A ticket is spent: what must still hold is the principal's standing (and, for a
        # token, the token itself, which a bootstrap admin's restart may have replaced).
        async with state.sessionmaker() as session:
            if kind == "ticket":
                return await principal_is_active(session, actor.id)
            try:
                await authenticate_token(session, secret)
            except Unauthorized:
                return False
            return True

    # Admins see every alert; everyone else their own bureau's.
    conn = Connection(
        hub, principal_id=actor.id, bureau=None if actor.is_admin else actor.bureau_code
    )
    await StreamSession(
        websocket, conn, store_ack=store_ack, reauthenticate=reauthenticate
    ).run()
