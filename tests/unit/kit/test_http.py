"""The HTTP input guard and the storable-input types, without a server."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ValidationError
from starlette.types import Message, Receive, Scope, Send

from failsafe.kit.http import InputGuard
from failsafe.kit.safe import Instant, Text


def _scope(path: str = "/x", query: bytes = b"", body: bool = False) -> Scope:
    headers = [(b"content-length", b"5")] if body else []
    return {"type": "http", "method": "POST", "path": path, "query_string": query,
            "headers": headers}  # fmt: skip


async def _call(app: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"hello", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await InputGuard(app)(scope, receive, send)
    return sent


def _status_headers_body(sent: list[Message]) -> tuple[int, dict[bytes, bytes], Any]:
    start, body = sent[0], sent[1]
    return start["status"], dict(start["headers"]), orjson.loads(body["body"])


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_nul_in_path_or_query_is_refused_before_the_app() -> None:
    status, headers, body = _status_headers_body(await _call(_ok, _scope("/v1/watchlist/a\x00")))
    assert status == 404 and body["error"]["code"] == "not_found"
    for query in (b"entry_id=a%00", b"a=1&q=%00x", b"na%00me=1", b"x=\x00"):
        status, _, body = _status_headers_body(await _call(_ok, _scope(query=query)))
        assert status == 422 and body["error"]["details"][0]["loc"][0] == "query", query
    status, _, _ = _status_headers_body(await _call(_ok, _scope(query=b"q=%2500&b=%C3%A9")))
    assert status == 200  # an escaped percent sign and real UTF-8 are fine
    # Refused with a body still unread: the connection closes rather than drain it.
    _, headers, _ = _status_headers_body(await _call(_ok, _scope("/a\x00", body=True)))
    assert headers[b"connection"] == b"close"


async def test_an_unexpected_error_is_the_500_shape_and_an_unread_body_closes() -> None:
    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("PETROV")  # a message that may quote request data

    status, headers, body = _status_headers_body(await _call(boom, _scope(body=True)))
    assert status == 500 and body == {"error": {"code": "internal", "message": "internal error"}}
    assert headers[b"connection"] == b"close"

    async def reads(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await _ok(scope, receive, send)

    _, headers, _ = _status_headers_body(await _call(reads, _scope(body=True)))
    assert b"connection" not in headers  # the body was read: keep-alive stays


class M(BaseModel):
    text: Text | None = None
    at: Instant | None = None


@pytest.mark.parametrize(
    "data",
    [
        {"text": "a\x00b"},
        {"text": "\ud800"},
        {"at": "0001-01-01T00:00:00+14:00"},
        {"at": "9999-12-31T23:59:59-14:00"},
        {"at": "0.5"},
        {"at": 1700000000},
        {"at": "2026-11-27T10:22:05"},  # no offset
    ],
)
def test_what_postgresql_cannot_store_is_invalid(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        M.model_validate(data)


def test_ordinary_text_and_instants_pass() -> None:
    m = M.model_validate({"text": "Иван ПЕТРОВ", "at": "9999-12-31T23:59:59+14:00"})
    assert m.text == "Иван ПЕТРОВ" and m.at is not None and m.at.year == 9999
