"""Hostile HTTP input on real PostgreSQL through a real server (issue 9, defect 5): NUL bytes and
lone surrogates in bodies, query strings and paths, integers and timestamps beyond what the
database holds, forged cursors, odd headers and bodies all get a clear 4xx in the one error
shape, never a 500; unknown routes and methods answer that shape too, with a complete `Allow`;
and an unexpected error keeps the keep-alive connection."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import orjson
import pytest
import pytest_asyncio

from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def http(app: RunningApp) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as client:
        yield client


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _error(r: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert "\x00" not in r.text and "\\u0000" not in r.text  # never echoed back
    return dict(body["error"])


def _entry(**subject: Any) -> dict[str, Any]:
    return {
        "notice": {"type": "green", "reference": "H/1"},
        "owner_bureau": "FRA",
        "subject": {"surname": "PETROV", **subject},
        "case": {"requested_action": "inform_only"},
    }


async def test_hostile_values_are_refused_with_4xx(
    app: RunningApp, http: httpx2.AsyncClient
) -> None:
    admin = {"Authorization": f"Bearer {await make_token(app.sessions, 'admin', None)}"}
    entry = await make_entry(app.sessions, owner="FRA")
    (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])

    # Bodies: NUL and lone surrogates in free text (PostgreSQL refuses the one, UTF-8 the other).
    for hostile in ("IVAN\u0000", "\ud800IVAN"):
        body = json.dumps(_entry(given_names=hostile))  # \u escapes (orjson refuses surrogates)
        r = await http.post(
            "/v1/watchlist", content=body, headers={**admin, "content-type": "application/json"}
        )
        details = _error(r, 422, "validation_error")["details"]
        assert [d["loc"] for d in details] == [["body", "subject", "given_names"]]
    r = await http.post("/v1/watchlist", json=_entry(name_original="\x00"), headers=admin)
    _error(r, 422, "validation_error")
    r = await http.post(
        f"/v1/alerts/{alert['id']}/transitions",
        json={"status": "acknowledged", "note": "seen\x00"},
        headers=admin,
    )
    _error(r, 422, "validation_error")
    r = await http.post(
        "/v1/principals", json={"role": "admin", "name": "root\x00"}, headers=admin
    )
    _error(r, 422, "validation_error")
    r = await http.post(
        f"/v1/watchlist/{entry['id']}/cancel", json={"reason": "\x00"}, headers=admin
    )
    _error(r, 422, "validation_error")
    r = await http.patch(
        f"/v1/watchlist/{entry['id']}", json={"subject": {"surname": "X\x00"}}, headers=admin
    )
    _error(r, 422, "validation_error")
    # Timestamps that are valid RFC 3339 but overflow in UTC; numbers are not timestamps.
    late = _entry()
    late["notice"]["expires_at"] = "9999-12-31T23:59:59-14:00"
    _error(await http.post("/v1/watchlist", json=late, headers=admin), 422, "validation_error")
    # A body that is not UTF-8 is a 422 like malformed JSON (was a bare 400 in another shape).
    r = await http.post(
        "/v1/watchlist",
        content=b'{"notice": "\xff\xfe"}',
        headers={**admin, "content-type": "application/json"},
    )
    _error(r, 422, "validation_error")

    # An import line with NUL is one rejected line; its neighbour still goes in.
    lines = orjson.dumps({"id": "nul-1", **_entry(surname="A\x00B")}) + b"\n"
    lines += orjson.dumps({"id": "ok-1", **_entry(surname="GOOD")}) + b"\n"
    lines = lines.replace(b'"reference":"H/1"', b'"reference":"H/2"', 1)
    r = await http.post("/v1/watchlist/import", content=lines, headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["line"] == 1 and "subject.surname" in report["errors"][0]["reason"]

    # Query strings and paths.
    for path, params in [
        ("/v1/alerts", {"entry_id": "a\x00"}),
        ("/v1/audit", {"principal_id": "\x00"}),
        ("/v1/audit", {"object_id": "x\x00y", "action": "watchlist.*"}),
        ("/v1/watchlist", {"q": "PET\x00"}),
        ("/v1/alerts", {"since_id": str(2**63)}),
        ("/v1/alerts", {"since_id": "1" + "0" * 40}),
        ("/v1/alerts", {"created_after": "0001-01-01T00:00:00+14:00"}),
        ("/v1/audit", {"since": "9999-12-31T23:59:59-14:00"}),
        ("/v1/audit", {"until": "0.5"}),
    ]:
        r = await http.get(path, params=params, headers=admin)
        _error(r, 422, "validation_error")
    for path in ("/v1/watchlist/a%00b", "/v1/principals/p%00", "/v1/watchlist/%00/versions"):
        _error(await http.get(path, headers=admin), 404, "not_found")

    # Forged cursors: a NUL or an integer beyond bigint inside valid base64 JSON.
    for path, key in [
        ("/v1/watchlist", {"id": "a\x00"}),
        ("/v1/alerts", {"before": 2**63}),
        ("/v1/audit", {"before": 2**64 - 1}),
        ("/v1/principals", {"id": "\x00"}),
        (f"/v1/watchlist/{entry['id']}/versions", {"version": 2**63}),
    ]:
        r = await http.get(path, params={"cursor": _cursor(key)}, headers=admin)
        _error(r, 400, "bad_request")

    # If-Match that str.isdigit() takes and int() refuses.
    headers = {**admin, "If-Match": '"²"'.encode("latin-1")}
    r = await http.patch(f"/v1/watchlist/{entry['id']}", json={}, headers=headers)
    _error(r, 400, "bad_request")

    # /v1/events over 8 MiB is a 413 (was a 400).
    big = b"[" + b" " * (8 * 1024 * 1024) + b"]"
    border = {"Authorization": f"Bearer {await make_token(app.sessions, 'border', 'DEU')}"}
    r = await http.post("/v1/events", content=big, headers=border)
    _error(r, 413, "payload_too_large")

    # Nothing above wrote a thing: the entry is as it was, and the server is well.
    r = await http.get(f"/v1/watchlist/{entry['id']}", headers=admin)
    assert r.status_code == 200 and r.json()["version"] == entry["version"]


async def test_unknown_routes_and_methods_answer_the_error_shape(
    app: RunningApp, http: httpx2.AsyncClient
) -> None:
    _error(await http.get("/v1/nothing-here"), 404, "not_found")
    r = await http.delete("/v1/watchlist")
    _error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"  # was only the first route's method
    r = await http.put("/v1/alerts/1/transitions")
    _error(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"
    r = await http.request("OPTIONS", "/v1/watchlist/x")
    assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH"
    r = await http.delete("/v1/watchlist/import")  # the import route, not an entry's id
    assert r.status_code == 405 and r.headers["allow"] == "POST"


async def test_an_unexpected_error_keeps_the_connection(app: RunningApp) -> None:
    async def boom() -> None:
        raise RuntimeError("a message that may quote request data")

    app.app.add_api_route("/test-boom", boom)
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    try:
        for path in ("/test-boom", "/healthz", "/test-boom", "/healthz"):
            writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
            await writer.drain()
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
            status = int(head.split(b" ")[1])
            if path == "/test-boom":
                assert status == 500 and b"connection: close" not in head.lower()
                assert orjson.loads(body) == {
                    "error": {"code": "internal", "message": "internal error"}
                }
            else:
                assert status == 200
    finally:
        writer.close()
