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

from failsafe import __version__, asyncapi, health
from failsafe.alarms.router import router as alarms_router
from failsafe.alarms.service import AlarmIntake, CrossingObserver
from failsafe.alerts.retention import RetentionTask
from failsafe.alerts.router import router as alerts_router
from failsafe.audit.router import router as audit_router
from failsafe.auth import deps as auth_deps
from failsafe.auth.oidc import OidcVerifier
from failsafe.auth.router import oidc_router
from failsafe.auth.router import router as principals_router
from failsafe.dashboard.router import router as dashboard_router
from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker, is_sqlite
from failsafe.errors import FailsafeError, Unavailable, dependency_unavailable
from failsafe.hub.protocol import CLOSE_INTERNAL, CLOSE_TRY_LATER, ConnectionLimits
from failsafe.hub.router import router as stream_router
from failsafe.hub.service import Hub
from failsafe.ingest.router import router as events_router
from failsafe.ingest.service import ScreeningService
from failsafe.kit import docs as kit_docs
from failsafe.kit import http as kit_http
from failsafe.kit import metrics as kit_metrics
from failsafe.kit.bus import AlertBus, KafkaAlertBus, MemoryAlertBus
from failsafe.kit.kafka import client_options
from failsafe.kit.openapi import operation_id
from failsafe.kit.ratelimit import FailureLimiter
from failsafe.kit.retry import Throttle
from failsafe.kit.state import AppState
from failsafe.kit.validation import error_details
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
        details = error_details(exc.errors())
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
                await conn.close(CLOSE_TRY_LATER if away else CLOSE_INTERNAL)
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


def _new_bus(settings: Settings) -> AlertBus:
    """The alert bus: Kafka's topic when a broker is configured, else in memory."""
    bus: AlertBus
    if settings.kafka.bootstrap_servers:
        bus = KafkaAlertBus(
            client_options(settings.kafka),
            settings.kafka.topics.alerts,
            settings.kafka.client_id,
            publish_timeout=settings.kafka.publish_timeout,
        )
    else:
        bus = MemoryAlertBus()
    return bus


def _new_hub(state: AppState) -> Hub:
    h = state.settings.hub
    limits = ConnectionLimits(
        max_queue=h.max_queue,
        replay_buffer=h.replay_buffer,
        replay_page=h.replay_page,
        ping_interval=h.ping_interval,
        ping_timeout=h.ping_timeout,
        send_timeout=h.send_timeout,
    )
    return Hub(
        state.sessionmaker,
        state.bus,
        gap_timeout=h.gap_timeout,
        poll_interval=h.poll_interval,
        limits=limits,
        max_pending=h.max_pending,
        status_cache=h.status_cache,
    )


async def _start_services(state: AppState) -> None:
    """In order: the alert bus, the live matcher, the alarm intake, the websocket hub (this
    replica's fan-out of the bus to its sockets), the retention purge when set; stopped in
    reverse, and reported by /readyz in this order."""
    await state.services.start(state.bus)
    if state.settings.auth.oidc.issuer is not None:  # single sign-on (failsafe.auth.oidc)
        await state.services.start(OidcVerifier(state.settings.auth.oidc))
    # Crossings that name a lane meet radiation alarms (failsafe.alarms) in PostgreSQL.
    lanes = CrossingObserver(state.sessionmaker, state.bus, state.settings.alarms)
    await state.services.start(
        ScreeningService(state.settings, state.sessionmaker, state.bus, lanes=lanes)
    )
    # Radiation alarms posted to this replica (embedded mode: recorded here).
    await state.services.start(AlarmIntake(state.sessionmaker, state.bus, state.settings.alarms))
    hub = _new_hub(state)
    await state.services.start(hub)
    state.sockets = hub
    if state.settings.retention.purge_interval > 0:  # off by default (failsafe.alerts.retention)
        await state.services.start(RetentionTask(state.sessionmaker, state.settings.retention))


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
        state = AppState(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            bus=_new_bus(settings),
            limiter=FailureLimiter(settings.auth.max_failures_per_minute),
        )
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
            await state.services.stop_all()
            await engine.dispose()

    app = FastAPI(
        title="failsafe",
        version=__version__,
        summary="Real-time watchlist tracking: travellers screened against a watchlist, alerts "
        "pushed live to the bureaus entitled to them.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served offline by failsafe.kit.docs
        redoc_url=None,
    )
    _install_error_handlers(app)
    kit_http.install(app)
    kit_metrics.install(app)  # ops: after kit_http, so outermost: it times every request
    kit_docs.install(app)  # ops: /docs and /redoc with their assets from the package
    app.include_router(health.router)
    app.include_router(asyncapi.router)
    app.include_router(events_router)
    app.include_router(principals_router)
    app.include_router(oidc_router)
    app.include_router(watchlist_router)
    app.include_router(audit_router)
    app.include_router(alerts_router)
    app.include_router(alarms_router)  # issue 12
    app.include_router(stream_router)
    app.include_router(dashboard_router)
    return app
