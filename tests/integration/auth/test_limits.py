"""The failed-authentication budget on real sockets (uvicorn run as `failsafe serve` runs it):
`X-Forwarded-For` is believed only from the proxies of `server.forwarded_allow_ips` (none by
default, so rotating it gains nothing), and a valid token opens the stream from an address over
its budget while failing ones are refused."""

from __future__ import annotations

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed

from failsafe.settings import AuthSettings, ServerSettings
from tests.fixtures.app import make_token, running_app, settings_for
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration

BAD = {"Authorization": "Bearer fs_" + "w" * 43}


async def _me(http: httpx2.AsyncClient, forwarded_for: str) -> int:
    r = await http.get("/v1/principals/me", headers={**BAD, "X-Forwarded-For": forwarded_for})
    return r.status_code


async def test_forwarded_for_is_believed_only_from_configured_proxies(fresh_pg_url: str) -> None:
    limited = settings_for(fresh_pg_url).model_copy(
        update={"auth": AuthSettings(max_failures_per_minute=2)}
    )
    # Default: no proxy trusted, not even a loopback peer; a rotating header changes nothing.
    async with running_app(limited) as app, httpx2.AsyncClient(base_url=app.http) as http:
        assert [await _me(http, f"203.0.113.{i}") for i in range(4)] == [401, 401, 429, 429]

    behind_proxy = limited.model_copy(
        update={"server": ServerSettings(forwarded_allow_ips="127.0.0.1")}
    )
    async with running_app(behind_proxy) as app, httpx2.AsyncClient(base_url=app.http) as http:
        # The forwarded client is who is counted: one is limited, another has its own budget.
        assert [await _me(http, "203.0.113.7") for _ in range(3)] == [401, 401, 429]
        assert await _me(http, "203.0.113.8") == 401


async def test_valid_token_opens_the_stream_from_an_address_over_budget(
    fresh_pg_url: str,
) -> None:
    settings = settings_for(fresh_pg_url).model_copy(
        update={"auth": AuthSettings(max_failures_per_minute=2)}
    )
    async with running_app(settings) as app:
        good = await make_token(app.sessions, "bureau", "DEU")
        bad = "fs_" + "v" * 43
        reasons = []
        for _ in range(3):
            ws = await open_stream(app.ws_url(bad), None)
            with pytest.raises(ConnectionClosed):
                await recv_json(ws)
            reasons.append((ws.close_code, ws.close_reason))
        assert reasons == [(1008, "invalid token")] * 2 + [
            (1008, "too many failed authentications; retry later")
        ]
        ws = await open_stream(app.ws_url(), good)  # header
        assert (await recv_json(ws))["type"] == "subscribed"
        await ws.close()
        async with httpx2.AsyncClient(base_url=app.http) as http:
            r = await http.post(
                "/v1/alerts/stream/ticket", headers={"Authorization": f"Bearer {good}"}
            )
            assert r.status_code == 200
        ws = await open_stream(f"{app.ws_url()}?ticket={r.json()['ticket']}", None)
        assert (await recv_json(ws))["type"] == "subscribed"
        await ws.close()
