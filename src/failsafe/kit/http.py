"""HTTP hardening shared by every route: hostile paths and query strings, unread bodies, and
errors that must still answer in the one error shape (`failsafe.errors`).

`install(app)` adds:

- `InputGuard`, a pure ASGI middleware in front of the routes:
  * a path with a NUL character is a 404 (no object can have such an id, and PostgreSQL would
    refuse the text); a query parameter with NUL is a 422 naming the parameter (never echoing
    its value). Invalid UTF-8 in either is already decoded with U+FFFD by the server and
    Starlette, so it reaches the routes as ordinary (unknown) text.
  * a response that starts before the request body was read to its end (a 413 refused by
    `Content-Length`, a 401 or 404 before the body mattered) carries `Connection: close`, so the
    server stops reading instead of receiving and discarding the rest of a huge upload.
  * an unexpected exception becomes the 500 error shape here, inside Starlette's outermost
    middleware, which would answer the same but then re-raise, and the server would drop the
    keep-alive connection and log the exception's message (which may quote request data).
- a handler for Starlette's `HTTPException` (unknown route 404, 405, and FastAPI's own 400s), so
  they answer `{"error": {...}}` too; a 405's `Allow` lists the methods of every route on that
  path, not only of the first route that matched.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Codes of the error shape for the statuses Starlette and FastAPI raise themselves.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return orjson.dumps({"error": error})


def unexpected_stack(exc: BaseException) -> str:
    """Where an exception came from, without its message: messages may quote request data, and
    personal data (names, documents) must never reach the logs."""
    return " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
        for f in reversed(traceback.extract_tb(exc.__traceback__))
    )


def _nul_query_parameter(query_string: bytes) -> str | None:
    """The name of the first query parameter whose name or value holds a NUL, if any."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        if b"\x00" in raw_name or b"\x00" in unquote_to_bytes(value.replace(b"+", b" ")):
            return raw_name.replace(b"\x00", b"").decode("utf-8", "replace")[:64]
    return None


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unread = _has_body(scope)  # refused before reading: close rather than drain it
        if "\x00" in scope.get("path", ""):
            await _answer(send, 404, error_body("not_found", "no such resource"), close=unread)
            return
        bad = _nul_query_parameter(scope.get("query_string", b""))
        if bad is not None:
            details = [
                {
                    "loc": ["query", bad],
                    "msg": "must not contain NUL characters",
                    "type": "value_error",
                }
            ]
            body = error_body("validation_error", "invalid request", details)
            await _answer(send, 422, body, close=unread)
            return

        body_done = not unread
        started = False

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not body_done:
                    headers = [
                        (k, v) for k, v in message.get("headers", ()) if k.lower() != b"connection"
                    ]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, tracking_receive, guarded_send)
        except Exception as exc:
            if started:
                raise  # too late for an answer: the server closes the connection
            log.error(
                "unhandled %s in %s %s at %s",
                type(exc).__name__,
                scope.get("method"),
                scope.get("path"),
                unexpected_stack(exc),
            )
            await _answer(send, 500, error_body("internal", "internal error"), close=not body_done)


async def _answer(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _allow_table(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(path pattern, methods) for every path of the OpenAPI document, built once."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allow_table", None
    )
    if table is None:
        table = []
        for path, item in app.openapi().get("paths", {}).items():
            methods = frozenset(m.upper() for m in item if m in _OPERATIONS)
            pattern = re.escape(re.sub(r"\{[^}/]+\}", "\x00", path)).replace("\x00", "[^/]+")
            table.append((re.compile(f"^{pattern}$"), methods))
        app.state.allow_table = table
    return table


def allowed_methods(request: Request) -> str | None:
    """Every documented method at this request's path, as an `Allow` value (Starlette's own 405
    names only the methods of the first route that matched the path)."""
    path = request.url.path
    matching = [(p, ms) for p, ms in _allow_table(request.app) if p.match(path)]
    # A literal path (`/v1/watchlist/import`) is that resource, even where a template
    # (`/v1/watchlist/{entry_id}`) also matches it; routes are declared literal first.
    literal = [ms for p, ms in matching if "[^/]+" not in p.pattern]
    methods = set(literal[0]) if literal else {m for _, ms in matching for m in ms}
    return ", ".join(sorted(methods)) if methods else None


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        message = f"method {request.method} not allowed here"
    elif status == 404:
        message = "no such resource"
    else:
        # FastAPI's own messages ("There was an error parsing the body") carry no request data.
        message = str(exc.detail) if isinstance(exc.detail, str) else "request refused"
    code = _HTTP_CODES.get(status, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    """Add the guard middleware and the HTTPException handler to `app`."""
    app.add_middleware(InputGuard)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
