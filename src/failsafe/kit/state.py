"""The application's typed state, created by the lifespan and reached through dependencies.

`AppState` holds what every domain may use as typed fields: settings, the database engine and
sessions, the alert bus, the failed-authentication limiter, and the hook that closes a revoked
principal's sockets on this replica. Domain services (the hub, the screening service) are in
`services`, the ordered list that drives startup, shutdown and /readyz; a domain finds its own
service there by class (`state.services.find(Hub)`) inside the domain's own deps module, which
gives routers a typed alias (`HubDep` in hub/deps.py, `ScreeningDep` and `OptionalScreeningDep`
in ingest/deps.py, `IntakeDep` in alarms/deps.py): this module, below every domain, names none of
them, no router looks a service up itself, and no lookup goes by string.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from failsafe.kit.bus import AlertBus
from failsafe.kit.ratelimit import FailureLimiter
from failsafe.kit.service import Services
from failsafe.settings import Settings


class PrincipalSockets(Protocol):
    """What the revocation of a principal needs of this replica's hub."""

    def close_principal(self, principal_id: str, reason: str) -> int: ...


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: AlertBus
    limiter: FailureLimiter
    services: Services = field(default_factory=Services)
    # This replica's hub, once started (None in processes without websockets).
    sockets: PrincipalSockets | None = None


def get_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.failsafe
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    async with get_state(conn).sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_bus(conn: HTTPConnection) -> AlertBus:
    return get_state(conn).bus


BusDep = Annotated[AlertBus, Depends(get_bus)]
