"""An in-process API client on the real PostgreSQL, and principal factories, for API tests.

async with api_client(pg_url) as api:
    token = await api.principal("analyst", "FRA")
    r = await api.client.get("/v1/watchlist", headers=auth(token))
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from fastapi import FastAPI

from failsafe.actor import CLI_ACTOR
from failsafe.app import create_app
from failsafe.auth.service import create_principal
from failsafe.kit.state import AppState
from failsafe.settings import AuthSettings, DatabaseSettings, Settings


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass
class Api:
    app: FastAPI
    client: httpx2.AsyncClient

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.failsafe
        return state

    async def principal(self, role: str, bureau: str | None = None) -> str:
        async with self.state.sessionmaker() as session:
            _, token = await create_principal(
                session, role=role, bureau_code=bureau, name=f"test {role}", actor=CLI_ACTOR
            )
        return token


@asynccontextmanager
async def api_client(database_url: str, **auth_settings: Any) -> AsyncIterator[Api]:
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        auth=AuthSettings(**auth_settings),
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(app, client)


def entry_body(
    owner: str | None = "FRA",
    *,
    surname: str = "PETROV",
    given_names: str = "IVAN",
    entry_id: str | None = None,
    reference: str | None = None,
    notice_type: str = "green",
    distribution: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid create body (a unique notice reference unless given)."""
    body: dict[str, Any] = {
        "notice": {"type": notice_type, "reference": reference or f"T/{uuid.uuid4().hex[:12]}"},
        "subject": {
            "surname": surname,
            "given_names": given_names,
            "date_of_birth": "1970-03",
            "nationalities": ["RUS"],
            "documents": [{"type": "P", "number": "753123456", "issuing_state": "RUS"}],
        },
        "case": {"category": "nuclear_smuggling", "requested_action": "discreet_check"},
        **extra,
    }
    if owner is not None:
        body["owner_bureau"] = owner
    if entry_id is not None:
        body["id"] = entry_id
    if distribution is not None:
        body["distribution"] = distribution
    return body


def unique_token() -> str:
    """A name token no other test uses (letters only: the normaliser folds digits)."""
    return "".join(chr(ord("A") + int(c, 16) % 26) for c in uuid.uuid4().hex[:12])
