"""Serves the dashboard's few static files at /dashboard/ with a strict Content-Security-Policy.

The page (issue 14: triage list, attention, detail with the map of movements) signs in with a
bearer token kept in the tab's sessionStorage: REST calls send it in the Authorization header;
the websocket (browsers cannot set its headers) sends it as `?token=`, which is why `serve`
runs uvicorn without an access log. No other URL ever carries it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from failsafe.auth.oidc import provider_origin
from failsafe.errors import NotFound
from failsafe.kit.state import get_state

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "attention.js": "text/javascript; charset=utf-8",
    "map.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    # The alert sound (scripts/alert_sound.py) and Natural Earth's 1:110m countries (public
    # domain, as TopoJSON from the npm package world-atlas 2.0.2, ISC; static/LICENSES.md).
    "alert.wav": "audio/wav",
    "countries-110m.json": "application/json",
    "oidc.js": "text/javascript; charset=utf-8",
}


def _headers(request: Request) -> dict[str, str]:
    host = request.headers.get("host", "")
    # 'self' covers same-origin websockets in current browsers; the explicit ws(s) origin is
    # for older ones. Nothing is loaded from anywhere else.
    connect = f"'self' ws://{host} wss://{host}" if host else "'self'"
    # Single sign-on: the page trades its code for a token at the provider (oidc.js).
    if issuer := get_state(request).settings.auth.oidc.issuer:
        connect += " " + provider_origin(issuer)
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self'; "
            f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }


@router.get("/dashboard")
async def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/dashboard/")
async def dashboard_index(request: Request) -> Response:
    return await dashboard_file("index.html", request)


@router.get("/dashboard/{name}")
async def dashboard_file(name: str, request: Request) -> Response:
    media_type = FILES.get(name)
    if media_type is None:
        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=media_type, headers=_headers(request))
