"""Request body size limits, enforced before and while the body is read (so no request can
exhaust memory or keep the server reading what it will refuse anyway).

`BodyLimitRoute` is an APIRoute class: a router created with `route_class=BodyLimitRoute` refuses
bodies over `DEFAULT_MAX_BODY` (or a route's own `openapi_extra={"x-max-body-bytes": N}`) with
413: at once, before reading anything, when `Content-Length` announces more; as soon as the limit
is passed when the body streams (chunked, or a length that lies). A 413 answered before the body
was read closes the connection (`failsafe.kit.http.InputGuard`), so the rest is never received.
`read_limited` does the same for routes that read their body themselves.

JSON bodies must be UTF-8: anything else is a 422 (`json_invalid`), like malformed JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import Message

from failsafe.errors import FailsafeError

DEFAULT_MAX_BODY = 256 * 1024
MAX_BODY_KEY = "x-max-body-bytes"


class PayloadTooLarge(FailsafeError):
    # Lives here rather than in failsafe.errors until another domain needs it.
    status_code: ClassVar[int] = 413
    code: ClassVar[str] = "payload_too_large"


def max_body_of(route: APIRoute) -> int:
    extra = route.openapi_extra or {}
    return int(extra.get(MAX_BODY_KEY, DEFAULT_MAX_BODY))


def check_declared_length(request: Request, limit: int) -> None:
    """413 before reading anything when `Content-Length` announces more than `limit`."""
    declared = request.headers.get("content-length", "").strip()
    # Compare by digit count first: a 30-digit length must not become a 30-digit int to compare.
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"request body larger than {limit} bytes")


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 by its declared length or as soon as it passes `limit`."""
    check_declared_length(request, limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body larger than {limit} bytes")
    return bytes(body)


def _require_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # FastAPI would answer a bare 400 ("error parsing the body"): make it the field-level 422
        # that malformed JSON gets.
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON body is not valid UTF-8"}]
        ) from None


class BodyLimitRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = max_body_of(self)
        parses_body = self.body_field is not None

        async def limited(request: Request) -> Response:
            if parses_body:
                # FastAPI turns any error while it reads a body into a 400: read it here first
                # (it would be held in memory for parsing anyway), then replay it.
                body = await read_limited(request, limit)
                _require_utf8(body)
                request._body = body
                return await handler(request)
            check_declared_length(request, limit)
            # A streaming endpoint reads the body itself: count as it goes.
            receive = request.receive
            seen = 0

            async def counting_receive() -> Message:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise PayloadTooLarge(f"request body larger than {limit} bytes")
                return message

            return await handler(Request(request.scope, counting_receive))

        return limited
