"""Liveness (/healthz: the process runs) and readiness (/readyz: its dependencies answer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from failsafe.errors import NotFound
from failsafe.kit import metrics as kit_metrics
from failsafe.kit.kafka import client_options, kafka_ready
from failsafe.kit.state import StateDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers (and Kafka, when configured)",
    responses={503: {"description": "a dependency does not answer"}},
)
async def readyz(state: StateDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001  (any failure means "not ready"; the reason is not for callers)
        checks["database"] = "unavailable"
    if state.settings.kafka.bootstrap_servers:
        ok = await kafka_ready(client_options(state.settings.kafka))
        checks["kafka"] = "ok" if ok else "unavailable"
    for name, is_ready in state.services.readiness().items():
        checks[name] = "ok" if is_ready else "not_ready"
    ready = all(v == "ok" for v in checks.values())
    kit_metrics.READY.set(1 if ready else 0)
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (on the API port unless `server.metrics_port` moves them)",
    response_class=Response,
    responses={404: {"description": "served on `server.metrics_port` instead"}},
)
async def metrics(state: StateDep) -> Response:
    if state.settings.server.metrics_port is not None:
        raise NotFound("metrics are served on the metrics port")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
