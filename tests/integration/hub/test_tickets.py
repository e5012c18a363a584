"""One-time websocket tickets (`POST /v1/alerts/stream/ticket`, `?ticket=`): issued by one replica
and used on another, usable once, for 30 s, never for a revoked principal; and a `failsafe serve`
run with its access log on writes neither a token nor a ticket to its log."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from failsafe.db.base import utcnow
from failsafe.db.models import StreamTicket
from tests.conftest import subprocess_log
from tests.fixtures.app import (
    RunningApp,
    free_port,
    make_token,
    running_app,
    serve_process,
    settings_for,
)
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _ticket(base: str, token: str) -> str:
    async with httpx2.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.post("/v1/alerts/stream/ticket", headers=_auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] == 30 and body["ticket"].startswith("fst_")
    return str(body["ticket"])


async def _closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        await recv_json(ws)
    return ws.close_code, ws.close_reason


def _with_ticket(app: RunningApp, ticket: str) -> str:
    return f"{app.ws_url()}?ticket={ticket}"


async def test_tickets_work_across_replicas_once_and_only_while_valid(fresh_pg_url: str) -> None:
    settings = settings_for(fresh_pg_url)
    async with running_app(settings) as a, running_app(settings) as b:
        token = await make_token(a.sessions, "bureau", "DEU")

        # Issued by A, used on B; then spent, on either replica.
        ticket = await _ticket(a.http, token)
        ws = await open_stream(_with_ticket(b, ticket), None)
        assert (await recv_json(ws))["type"] == "subscribed"
        for app in (a, b):
            again = await open_stream(_with_ticket(app, ticket), None)
            assert await _closed(again) == (1008, "invalid ticket")
        await ws.close()

        # Used at the same moment on both replicas: exactly one of them wins.
        for _ in range(3):
            ticket = await _ticket(a.http, token)
            both = await asyncio.gather(
                *(open_stream(_with_ticket(app, ticket), None) for app in (a, b))
            )
            outcomes = []
            for ws in both:
                try:
                    outcomes.append((await recv_json(ws))["type"])
                except ConnectionClosed:
                    outcomes.append(f"{ws.close_code} {ws.close_reason}")
                await ws.close()
            assert sorted(outcomes) == ["1008 invalid ticket", "subscribed"], outcomes

        # Expired.
        stale = await _ticket(a.http, token)
        async with a.sessions() as session:
            await session.execute(
                update(StreamTicket).values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        assert await _closed(await open_stream(_with_ticket(b, stale), None)) == (
            1008,
            "invalid ticket",
        )

        # Issued, then the principal is revoked before the ticket is used.
        doomed = await make_token(a.sessions, "bureau", "FRA")
        admin = await make_token(a.sessions, "admin", None)
        ticket = await _ticket(a.http, doomed)
        async with httpx2.AsyncClient(base_url=a.http, timeout=10) as http:
            me = (await http.get("/v1/principals/me", headers=_auth(doomed))).json()
            r = await http.post(f"/v1/principals/{me['id']}/revoke", headers=_auth(admin))
            assert r.status_code == 200
            assert (
                await http.post("/v1/alerts/stream/ticket", headers=_auth(doomed))
            ).status_code == 401
            # Roles that may not stream get no ticket.
            border = await make_token(a.sessions, "border", "DEU")
            r = await http.post("/v1/alerts/stream/ticket", headers=_auth(border))
            assert r.status_code == 403
            assert (await http.post("/v1/alerts/stream/ticket")).status_code == 401
        assert await _closed(await open_stream(_with_ticket(b, ticket), None)) == (
            1008,
            "invalid ticket",
        )
        # A made-up ticket, and one that is too short to be one.
        for bogus in ("fst_" + "x" * 43, "abc"):
            assert await _closed(await open_stream(_with_ticket(a, bogus), None)) == (
                1008,
                "invalid ticket",
            )


async def test_a_serve_run_with_access_log_writes_no_token_or_ticket(fresh_pg_url: str) -> None:
    log = subprocess_log("serve-access-log")
    env = {
        **os.environ,
        "FAILSAFE_DATABASE__URL": fresh_pg_url,
        "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
        "FAILSAFE_SERVER__ACCESS_LOG": "true",
        "FAILSAFE_LOG_LEVEL": "INFO",
    }
    env.pop("FAILSAFE_KAFKA__BOOTSTRAP_SERVERS", None)
    async with running_app(settings_for(fresh_pg_url)) as helper:
        token = await make_token(helper.sessions, "bureau", "DEU")
    bad_token = "fs_" + "q" * 43
    async with serve_process(env, free_port(), log) as base:
        url = base.replace("http://", "ws://") + "/v1/alerts/stream"
        ticket = await _ticket(base, token)
        spent = []
        for query in (f"token={token}", f"ticket={ticket}"):
            ws = await open_stream(f"{url}?{query}", None)
            assert (await recv_json(ws))["type"] == "subscribed"
            await ws.close()
        for query in (f"token={bad_token}", f"ticket={ticket}"):  # refused: logged all the same
            spent.append(await _closed(await open_stream(f"{url}?{query}", None)))
        assert spent == [(1008, "invalid token"), (1008, "invalid ticket")]
        # A token in an HTTP URL (a client's mistake) is redacted from the access log too. The
        # test's own client would log that URL: it is quiet for this one request.
        client_log = logging.getLogger("httpx2")
        level = client_log.level
        client_log.setLevel(logging.WARNING)
        try:
            async with httpx2.AsyncClient(base_url=base, timeout=10) as http:
                r = await http.get(f"/v1/principals/me?token={token}", headers=_auth(token))
                assert r.status_code == 200
        finally:
            client_log.setLevel(level)
    text = log.read_text()
    lines = text.splitlines()
    # The lines are there (access log on), with their secrets redacted.
    websocket_lines = [line for line in lines if '"WebSocket /v1/alerts/stream?' in line]
    assert len(websocket_lines) >= 4, text[-3000:]
    assert any("ticket=[redacted]" in line for line in websocket_lines)
    assert any("token=[redacted]" in line for line in websocket_lines)
    assert any('"GET /v1/principals/me?token=[redacted] HTTP/1.1" 200' in line for line in lines)
    for secret in (token, ticket, bad_token):
        assert secret not in text
        assert secret[4:20] not in text  # not even a part of it
