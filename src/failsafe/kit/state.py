"""The application's typed state, created by the lifespan and reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from failsafe.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Services later issues attach (matcher, alert bus, hub...), by name.
    services: dict[str, Any] = field(default_factory=dict)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.failsafe
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request) -> Any:
    state: AppState = request.app.state.failsafe
    async with state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
