"""Prometheus metrics of serve (HTTP, websockets, authentication, hub) and of the whole process.

Every metric the API process exports is defined here, once, in prometheus_client's default
registry (the ingest pipeline's own are in `failsafe.ingest.metrics`; both processes expose the
same registry on `/metrics`). deploy/prometheus/rules.yaml and deploy/grafana/failsafe.json
name only these and those, which tests/unit/test_observability.py checks.

Invariants:
- Label values are bounded: an HTTP request is labelled by its route *template*
  (`/v1/watchlist/{entry_id}`), never its raw path (ids, and whatever a client invents, would
  each make a series); a request no route matched is `<unmatched>`. Status codes are grouped
  by class only where a value could be anything (they are not: ASGI statuses are 100-599).
- Nothing here sees a request's body, headers or query: no token or personal data can reach a
  label.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from failsafe import __version__

BUILD = Info("failsafe_build", "Version of failsafe and of the Python running it")
BUILD.info({"version": __version__, "python": platform.python_version()})

HTTP_REQUESTS = Counter(
    "failsafe_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "failsafe_http_request_seconds",
    "Time from a request's start to its response's last byte, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WS_CONNECTIONS = Gauge(
    "failsafe_websocket_connections", "Alert stream websockets open on this replica"
)
WS_FRAMES = Counter(
    "failsafe_websocket_frames_sent_total", "Frames written to alert stream websockets"
)
WS_SLOW_DROPPED = Counter(
    "failsafe_websocket_slow_clients_dropped_total",
    "Alert stream websockets closed 1013 for reading too slowly (they resume with `since`)",
)
AUTH_FAILURES = Counter(
    "failsafe_auth_failures_total",
    "Failed authentications (a missing, unknown, revoked or expired token or ticket)",
)
RATE_LIMITED = Counter(
    "failsafe_rate_limited_total",
    "Requests answered 429 because their address is over the failed-authentication budget",
)
HUB_GAP_FILLS = Counter(
    "failsafe_hub_gap_fills_total",
    "Alerts the websocket hub delivered from the database because the bus had not brought them",
)
EVENT_TO_ALERT = Histogram(
    "failsafe_event_to_alert_seconds",
    "From an event's arrival (its Kafka record timestamp; in the embedded mode, the request) to "
    "its alert's publication",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
READY = Gauge(
    "failsafe_ready",
    "1 when this process's last readiness check passed (serve: each /readyz; workers: live)",
)

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request (set by the router in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        # A Mount (the dashboard's static files) is labelled by its prefix, not the file.
        return path
    return UNMATCHED


class HttpMetrics:
    """ASGI middleware counting and timing every HTTP request by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The router put the matched route in this same scope dict while handling it.
            route = route_template(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)


def observe_event_to_alert(arrivals_ms: Iterable[int | None], now: float | None = None) -> None:
    """One observation per alerted event, from its arrival (epoch milliseconds) to now."""
    now = time.time() if now is None else now
    for arrived in arrivals_ms:
        if arrived is not None and arrived > 0:
            EVENT_TO_ALERT.observe(max(0.0, now - arrived / 1000))


def install(app: Any) -> None:
    """Add the HTTP middleware to a FastAPI/Starlette app (outermost, so it times everything)."""
    app.add_middleware(HttpMetrics)
