"""serve's metrics (failsafe.kit.metrics) on the embedded app: HTTP requests by route template,
authentication failures and 429s, event-to-alert latency, slow-client drops, readiness, and
`/metrics` moved to its own port."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx2
import orjson
from prometheus_client import REGISTRY

from failsafe.hub.connection import Connection
from failsafe.hub.protocol import CLOSE_TOO_SLOW
from failsafe.hub.service import Hub
from failsafe.kit import metrics
from failsafe.kit.bus import MemoryAlertBus
from failsafe.settings import AuthSettings, DatabaseSettings, ServerSettings, Settings
from tests.fixtures.app import free_port, in_process, serve_process
from tests.fixtures.waiting import eventually

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def settings(tmp_path: Path, **server: Any) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'fs.db'}"),
        auth=AuthSettings(max_failures_per_minute=2),
        server=ServerSettings(**server),
    )


async def test_requests_are_counted_by_route_template_never_by_raw_path(tmp_path: Path) -> None:
    async with in_process(settings(tmp_path)) as api:
        client = api.client
        admin = await api.headers("admin", None)
        route = "/v1/watchlist/{entry_id}"
        before = value("failsafe_http_requests_total", method="GET", route=route, status="404")
        timed = value("failsafe_http_request_seconds_count", method="GET", route=route)
        for raw in ("wl_does_not_exist", "wl_nor_this_one"):
            assert (await client.get(f"/v1/watchlist/{raw}", headers=admin)).status_code == 404
        after = value("failsafe_http_requests_total", method="GET", route=route, status="404")
        assert after - before == 2
        assert value("failsafe_http_request_seconds_count", method="GET", route=route) == timed + 2
        unmatched = value(
            "failsafe_http_requests_total", method="GET", route="<unmatched>", status="404"
        )
        assert (await client.get("/no/such/path/qzxv")).status_code == 404
        assert (
            value("failsafe_http_requests_total", method="GET", route="<unmatched>", status="404")
            == unmatched + 1
        )
        exposition = (await client.get("/metrics")).text
        # Not digits: they may appear in the exposition's timestamps by chance.
        assert "wl_does_not_exist" not in exposition and "qzxv" not in exposition
        assert 'failsafe_build_info{python="' in exposition


async def test_authentication_failures_and_rate_limiting_are_counted(tmp_path: Path) -> None:
    async with in_process(settings(tmp_path)) as api:
        client = api.client
        failures = value("failsafe_auth_failures_total")
        limited = value("failsafe_rate_limited_total")
        assert (await client.get("/v1/watchlist")).status_code == 401  # no token
        bad = {"Authorization": "Bearer fs_" + "x" * 43}
        statuses = [(await client.get("/v1/watchlist", headers=bad)).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]  # a budget of 2 failures per minute
        assert value("failsafe_auth_failures_total") == failures + 4
        assert value("failsafe_rate_limited_total") == limited + 1


async def test_an_alert_observes_the_event_to_alert_latency(tmp_path: Path) -> None:
    async with in_process(settings(tmp_path)) as api:
        client = api.client
        await api.ready()
        analyst = await api.headers("analyst", "FRA")
        border = await api.headers("border", "DEU")
        entry = orjson.loads((EXAMPLES / "entry.json").read_bytes())
        assert (await client.post("/v1/watchlist", json=entry, headers=analyst)).status_code == 201
        await eventually(lambda: bool(api.screening.follower.entries), timeout=10)
        before = value("failsafe_event_to_alert_seconds_count")
        # The registry is the process's: other tests observe too (some 30 s on purpose).
        quick = value("failsafe_event_to_alert_seconds_bucket", le="10.0")
        event = orjson.loads((EXAMPLES / "event.json").read_bytes())
        assert (await client.post("/v1/events", json=event, headers=border)).status_code == 202
        assert value("failsafe_event_to_alert_seconds_count") == before + 1
        assert value("failsafe_event_to_alert_seconds_bucket", le="10.0") == quick + 1


def test_event_to_alert_ignores_records_without_a_time() -> None:
    before = value("failsafe_event_to_alert_seconds_count")
    metrics.observe_event_to_alert([None, 0, 1_000_000], now=1_001.5)
    assert value("failsafe_event_to_alert_seconds_count") == before + 1


def test_a_slow_client_dropped_is_counted_once() -> None:
    sessions: Any = None  # the fan-out touches no database
    hub = Hub(sessions, MemoryAlertBus())
    conn = Connection(hub, limits=hub.limits, principal_id="p", bureau="DEU")
    before = value("failsafe_websocket_slow_clients_dropped_total")
    conn.kill(1008, "token revoked")  # not a slow client
    assert value("failsafe_websocket_slow_clients_dropped_total") == before
    other = Connection(hub, limits=hub.limits, principal_id="q", bureau="DEU")
    other.kill(CLOSE_TOO_SLOW, "too slow")
    other.kill(CLOSE_TOO_SLOW, "too slow")  # already closed
    assert value("failsafe_websocket_slow_clients_dropped_total") == before + 1


async def test_readiness_gauge_follows_readyz(tmp_path: Path) -> None:
    s = settings(tmp_path)
    s.kafka.bootstrap_servers = "127.0.0.1:1"  # nothing listens on port 1
    async with in_process(s) as api:
        client = api.client
        assert (await client.get("/readyz")).status_code == 503
        assert value("failsafe_ready") == 0
    async with in_process(settings(tmp_path)) as api:
        client = api.client
        await api.ready()
        assert (await client.get("/readyz")).status_code == 200
        assert value("failsafe_ready") == 1


async def test_metrics_on_their_own_port(tmp_path: Path) -> None:
    async with in_process(settings(tmp_path, metrics_port=free_port())) as api:
        client = api.client
        moved = await client.get("/metrics")
        assert moved.status_code == 404 and moved.json()["error"]["code"] == "not_found"
    # `failsafe serve` with the setting: /metrics on the metrics port, not on the API port.
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAILSAFE_")} | {
        "FAILSAFE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "FAILSAFE_SERVER__METRICS_PORT": str(metrics_port),
    }
    async with serve_process(env, port) as base, httpx2.AsyncClient(timeout=5) as http:
        assert (await http.get(f"{base}/metrics")).status_code == 404
        scraped = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scraped.status_code == 200
        assert "failsafe_http_requests_total" in scraped.text
        assert 'route="/readyz"' in scraped.text  # the API's own requests, seen by this process
