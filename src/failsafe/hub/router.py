"""The websocket endpoint `/v1/alerts/stream` (docs/contracts.md "Websocket"): authentication,
then the hub's stream for the caller's bureau (the protocol is failsafe.hub.protocol); and
`POST /v1/alerts/stream/ticket`, the one-time tickets browsers connect with.

A socket authenticates with, in order: an `Authorization: Bearer` header, `?ticket=` (one-time,
30 s, from the ticket endpoint: what the dashboard uses, since a browser cannot set headers on a
websocket), or `?token=` (kept for existing clients; a URL's query string is what access logs and
proxies record, so failsafe's logs redact it, but a ticket is worthless once read). Failures
count against the caller's address like the API's (failsafe.auth.deps.authenticate_limited).
Authenticating, auditing and committing are failsafe.hub.stream's; this module maps outcomes to
close codes.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, Field

from failsafe.auth.deps import PrincipalDep
from failsafe.auth.service import TICKET_TTL
from failsafe.errors import Forbidden, TooManyRequests, Unauthorized, dependency_unavailable
from failsafe.hub import stream
from failsafe.hub.connection import Connection
from failsafe.hub.deps import HubDep
from failsafe.hub.protocol import CLOSE_POLICY, CLOSE_TRY_LATER
from failsafe.hub.session import StreamSession
from failsafe.kit.openapi import error_responses
from failsafe.kit.state import SessionDep, get_state

router = APIRouter(tags=["alerts"])


class StreamTicketOut(BaseModel):
    ticket: str = Field(description="connect with /v1/alerts/stream?ticket=...; usable once")
    expires_in: int = Field(description="seconds the ticket stays valid")


@router.post(
    "/v1/alerts/stream/ticket",
    summary="A one-time ticket to open the alert stream with (?ticket=), valid for 30 s",
    responses=error_responses(401, 403, 429),
)
async def stream_ticket(principal: PrincipalDep, session: SessionDep) -> StreamTicketOut:
    ticket = await stream.new_ticket(session, principal)
    return StreamTicketOut(ticket=ticket, expires_in=int(TICKET_TTL.total_seconds()))


def _credential(websocket: WebSocket) -> stream.Credential | None:
    header = websocket.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return stream.Credential("token", value.strip())
        return None
    if ticket := websocket.query_params.get("ticket"):
        return stream.Credential("ticket", ticket)
    if token := websocket.query_params.get("token"):
        return stream.Credential("token", token)
    return None


@router.websocket("/v1/alerts/stream")
async def alert_stream(websocket: WebSocket, hub: HubDep) -> None:
    state = get_state(websocket)
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
    client = websocket.client.host if websocket.client else "unknown"
    try:
        actor = await stream.open_stream(state.sessionmaker, state.limiter, client, credential)
    except TooManyRequests:
        await websocket.close(CLOSE_POLICY, "too many failed authentications; retry later")
        return
    except Unauthorized:
        await websocket.close(CLOSE_POLICY, f"invalid {credential.kind}")
        return
    except Forbidden as exc:
        await websocket.close(CLOSE_POLICY, exc.message)
        return
    except Exception as exc:
        if not dependency_unavailable(exc):
            raise
        # The database is away: say so with a close code the client can act on (1013: try
        # again later), rather than dropping the socket without a close frame.
        await websocket.close(CLOSE_TRY_LATER, "database unavailable; retry")
        return

    async def store_ack(alert_id: int) -> bool:
        return await stream.store_ack(state.sessionmaker, actor, alert_id)

    async def reauthenticate() -> bool:
        return await stream.still_valid(state.sessionmaker, actor, credential)

    # Admins see every alert; everyone else their own bureau's.
    conn = Connection(
        hub,
        limits=hub.limits,
        principal_id=actor.id,
        bureau=None if actor.is_admin else actor.bureau_code,
    )
    await StreamSession(
        websocket, conn, hub, store_ack=store_ack, reauthenticate=reauthenticate
    ).run()
