"""The FastAPI application: `create_app(settings)` and a lifespan owning engine and services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection

from failsafe import __version__, health
from failsafe.alarms.router import router as alarms_router  # issue 12
from failsafe.alarms.service import AlarmIntake  # issue 12
from failsafe.alerts.router import router as alerts_router
from failsafe.audit.router import router as audit_router
from failsafe.auth import deps as auth_deps
from failsafe.auth.router import router as principals_router
from failsafe.dashboard.router import router as dashboard_router
from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker, is_sqlite
from failsafe.errors import FailsafeError, Unavailable, dependency_unavailable
from failsafe.hub.bus import AlertBus, KafkaAlertBus, MemoryAlertBus
from failsafe.hub.router import router as stream_router
from failsafe.hub.service import Hub
from failsafe.ingest.router import router as events_router
from failsafe.ingest.service import ScreeningService
from failsafe.kit import http as kit_http
from failsafe.kit.retry import Throttle
from failsafe.kit.state import AppState
from failsafe.logging import install_redaction
from failsafe.settings import Settings, get_settings
from failsafe.watchlist.router import router as watchlist_router

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5  # what a 503 for a dependency that is away asks clients to wait


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FailsafeError)
    async def _failsafe_error(_request: Request, exc: FailsafeError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("request failed: %s", exc.code, exc_info=exc)
        headers = dict(exc.headers)
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Field-level messages, without echoing the submitted values (they may be personal data).
        details = [
            {
                "loc": list(err.get("loc", ())),
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        body = {
            "error": {"code": "validation_error", "message": "invalid request", "details": details}
        }
        return JSONResponse(body, status_code=422)

    unavailable_lines = Throttle(10.0)

    async def _unavailable(conn: HTTPConnection, exc: Exception) -> JSONResponse | None:
        # PostgreSQL (or Kafka) away is a 503 the client may retry, not a 500; anything else
        # these types carry (a data error) is the unexpected case below.
        if isinstance(conn, WebSocket):
            # Handlers see websockets too: answer with a close code, not an HTTP response.
            away = dependency_unavailable(exc)
            if not away:
                log.error("unhandled %s on %s", type(exc).__name__, conn.url.path)
            with contextlib.suppress(Exception):  # it may be closed already
                await conn.close(1013 if away else 1011)
            return None
        request = cast(Request, conn)
        if not dependency_unavailable(exc):
            return await _unexpected(request, exc)
        if unavailable_lines.passes():  # one line per 10 s, not one per request
            log.warning(
                "%s %s: 503, a dependency is unavailable (%s); %d more 503s not logged",
                request.method,
                request.url.path,
                type(exc).__name__,
                unavailable_lines.skipped,
            )
        body = Unavailable(
            "a dependency (database or broker) is unavailable; retry later",
            details=[{"retry_after": RETRY_AFTER_S}],
        ).to_dict()
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    for kind in (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(kind, cast(Any, _unavailable))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The stack without the exception's message: messages may quote request data, and
        # personal data (names, documents) must never reach the logs.
        stack = " <- ".join(
            f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
            for f in reversed(traceback.extract_tb(exc.__traceback__))
        )
        log.error(
            "unhandled %s in %s %s at %s",
            type(exc).__name__,
            request.method,
            request.url.path,
            stack,
        )
        return JSONResponse(
            {"error": {"code": "internal", "message": "internal error"}}, status_code=500
        )


async def _start_services(state: AppState) -> None:
    """The alert bus (Kafka or in-memory) and the live matcher; each is stopped in reverse."""
    settings = state.settings
    bus: AlertBus
    if settings.kafka.bootstrap_servers:
        bus = KafkaAlertBus(
            settings.kafka.bootstrap_servers,
            settings.kafka.topics.alerts,
            settings.kafka.client_id,
            publish_timeout=settings.kafka.publish_timeout,
        )
    else:
        bus = MemoryAlertBus()
    await bus.start()
    state.services["alert_bus"] = bus
    screening = ScreeningService(settings, state.sessionmaker, bus)
    state.services["screening"] = screening
    await screening.start()
    # Issue 12: radiation alarms posted to this replica (embedded mode: recorded here).
    state.services["alarms"] = AlarmIntake(state.sessionmaker, bus, settings.alarms)
    # The websocket hub: this replica's fan-out of the alert bus to its sockets (stopped first).
    hub = Hub(state.sessionmaker, bus)
    state.services["hub"] = hub
    await hub.start()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # However the app is served (`failsafe serve`, uvicorn's CLI, a test), uvicorn's request
    # lines are redacted before any handler sees them.
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database.url
        auto_migrate = settings.database.auto_migrate
        if auto_migrate is None:
            auto_migrate = is_sqlite(url)
        if auto_migrate:
            await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(settings.database)
        state = AppState(settings=settings, engine=engine, sessionmaker=create_sessionmaker(engine))
        app.state.failsafe = state
        await auth_deps.on_startup(state)
        await _start_services(state)
        log.info(
            "failsafe %s started (%s mode)",
            __version__,
            "embedded" if settings.embedded else "kafka",
        )
        try:
            yield
        finally:
            for service in reversed(list(state.services.values())):
                stop = getattr(service, "stop", None)
                if stop is not None:
                    await stop()
            await engine.dispose()

    app = FastAPI(
        title="failsafe",
        version=__version__,
        summary="Real-time watchlist tracking: travellers screened against a watchlist, alerts "
        "pushed live to the bureaus entitled to them.",
        lifespan=lifespan,
    )
    _install_error_handlers(app)
    kit_http.install(app)
    app.include_router(health.router)
    app.include_router(events_router)
    app.include_router(principals_router)
    app.include_router(watchlist_router)
    app.include_router(audit_router)
    app.include_router(alerts_router)
    app.include_router(alarms_router)  # issue 12
    app.include_router(stream_router)
    app.include_router(dashboard_router)
    return app
