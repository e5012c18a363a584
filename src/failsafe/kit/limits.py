"""Request body size limits, enforced while the body is read (so no request can exhaust memory).

`BodyLimitRoute` is an APIRoute class: a router created with `route_class=BodyLimitRoute` refuses
bodies over `DEFAULT_MAX_BODY` (or a route's own `openapi_extra={"x-max-body-bytes": N}`) with
413, whether the client announces the length or streams it chunked.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import Request, Response
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


class BodyLimitRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = max_body_of(self)
        parses_body = self.body_field is not None

        async def limited(request: Request) -> Response:
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise PayloadTooLarge(f"request body larger than {limit} bytes")
            if parses_body:
                # FastAPI turns any error while it reads a body into a 400: read it here first
                # (it would be held in memory for parsing anyway), then replay it.
                body = bytearray()
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > limit:
                        raise PayloadTooLarge(f"request body larger than {limit} bytes")
                request._body = bytes(body)
                return await handler(request)
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
