"""The websocket endpoint `/v1/alerts/stream` (DESIGN.md "Websocket"): authentication, then the
hub's stream for the caller's bureau (see failsafe.hub.connection for the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

import failsafe.audit.service as audit
from failsafe.alerts import service as alerts
from failsafe.auth.deps import failure_limiter
from failsafe.auth.service import Actor, authenticate_token
from failsafe.errors import Unauthorized, dependency_unavailable
from failsafe.hub.connection import CLOSE_POLICY, Connection, StreamSession
from failsafe.hub.service import Hub
from failsafe.kit.state import AppState

router = APIRouter(tags=["alerts"])

STREAM_ROLES = frozenset({"admin", "bureau", "analyst"})
CLOSE_TRY_LATER = 1013  # RFC 6455 "Try Again Later"


def _token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    # Browsers cannot set headers on a websocket. `serve` runs uvicorn without an access log,
    # so this query string is not recorded.
    return websocket.query_params.get("token") or None


@router.websocket("/v1/alerts/stream")
async def alert_stream(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.failsafe
    hub = state.services.get("hub")
    token = _token(websocket)
    # Accept first so that refusals carry a close code (1008) the client can read, rather than
    # an HTTP 403 from the handshake.
    await websocket.accept()
    if not isinstance(hub, Hub) or not hub.ready:
        await websocket.close(CLOSE_TRY_LATER, "not ready; retry")
        return
    limiter = failure_limiter(state)
    client = websocket.client.host if websocket.client else "unknown"
    if limiter.retry_after(client) > 0:
        await websocket.close(CLOSE_POLICY, "too many failed authentications; retry later")
        return
    if token is None:
        await websocket.close(CLOSE_POLICY, "missing bearer token")
        return
    try:
        async with state.sessionmaker() as session:
            principal = await authenticate_token(session, token)
            actor = Actor.of(principal)
            if actor.role not in STREAM_ROLES or (actor.role != "admin" and not actor.bureau_code):
                await websocket.close(CLOSE_POLICY, f"role {actor.role} may not receive alerts")
                return
            audit.record(session, actor, "alert.stream", "bureau", actor.bureau_code, {})
            await session.commit()
    except Unauthorized:
        limiter.record_failure(client)
        await websocket.close(CLOSE_POLICY, "invalid token")
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
        try:
            async with state.sessionmaker() as session:
                await authenticate_token(session, token)
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
