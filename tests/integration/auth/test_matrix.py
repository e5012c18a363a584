"""The role × endpoint matrix: every role tried on every endpoint of issue 4, with the status it
must get. Entry under test: owned by FRA; `restricted` variants allow only ITA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.fixtures.app import Api, api_client, auth
from tests.fixtures.factories import entry_body

pytestmark = pytest.mark.integration

# Callers: an admin, an analyst of the owner bureau (FRA), an analyst of another bureau (DEU),
# a bureau principal (DEU), a border principal (DEU), nobody (no token), and a made-up token.
ROLES = ("admin", "analyst", "analyst_other", "bureau", "border", "none", "bad")

# endpoint → expected status per role, in ROLES order.
MATRIX: dict[str, tuple[int, ...]] = {
    "list entries": (200, 200, 200, 200, 403, 401, 401),
    "create entry": (201, 201, 403, 403, 403, 401, 401),
    "read entry": (200, 200, 200, 200, 403, 401, 401),
    "patch entry": (200, 200, 403, 403, 403, 401, 401),
    "cancel entry": (200, 200, 403, 403, 403, 401, 401),
    "entry versions": (200, 200, 200, 200, 403, 401, 401),
    "entry sightings": (200, 200, 200, 200, 403, 401, 401),
    "import entries": (200, 200, 200, 403, 403, 401, 401),
    "read restricted entry": (200, 200, 404, 404, 403, 401, 401),
    "patch restricted entry": (200, 200, 404, 403, 403, 401, 401),
    "versions of restricted entry": (200, 200, 404, 404, 403, 401, 401),
    "query audit": (200, 403, 403, 403, 403, 401, 401),
    "list principals": (200, 403, 403, 403, 403, 401, 401),
    "create principal": (201, 403, 403, 403, 403, 401, 401),
    # The bureau principal (DEU) creates its own bureau's officers (issue 14).
    "create officer": (201, 403, 403, 201, 403, 401, 401),
    "read principal": (200, 403, 403, 403, 403, 401, 401),
    "revoke principal": (200, 403, 403, 403, 403, 401, 401),
    "who am i": (200, 200, 200, 200, 200, 401, 401),
}


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    # A generous failure limit: this module sends made-up tokens on purpose.
    async with api_client(pg_url, max_failures_per_minute=10_000) as api:
        yield api


@pytest_asyncio.fixture(scope="module")
async def tokens(api: Api) -> dict[str, str | None]:
    return {
        "admin": await api.principal("admin"),
        "analyst": await api.principal("analyst", "FRA"),
        "analyst_other": await api.principal("analyst", "DEU"),
        "bureau": await api.principal("bureau", "DEU"),
        "border": await api.principal("border", "DEU"),
        "none": None,
        "bad": "fs_this-token-was-never-issued-by-anyone",
    }


async def _new_entry(api: Api, admin: str, restricted: bool = False) -> str:
    distribution = {"mode": "restricted", "allow": ["ITA"]} if restricted else None
    r = await api.client.post(
        "/v1/watchlist", json=entry_body("FRA", distribution=distribution), headers=auth(admin)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _call(api: Api, endpoint: str, headers: dict[str, str], admin: str) -> Any:
    c = api.client
    if endpoint == "list entries":
        return await c.get("/v1/watchlist", headers=headers)
    if endpoint == "create entry":
        return await c.post("/v1/watchlist", json=entry_body("FRA"), headers=headers)
    if endpoint == "import entries":
        line = '{"notice": {"type": "red", "reference": "M/1"}}\n'
        return await c.post("/v1/watchlist/import", content=line, headers=headers)
    if endpoint == "query audit":
        return await c.get("/v1/audit", headers=headers)
    if endpoint == "list principals":
        return await c.get("/v1/principals", headers=headers)
    if endpoint == "create principal":
        body = {"role": "bureau", "bureau": "ESP", "name": "matrix"}
        return await c.post("/v1/principals", json=body, headers=headers)
    if endpoint == "create officer":
        body = {"bureau": "DEU", "name": "matrix officer"}
        return await c.post("/v1/principals/officers", json=body, headers=headers)
    if endpoint in ("read principal", "revoke principal"):
        victim = await api.principal("bureau", "ESP")
        me = (await c.get("/v1/principals/me", headers=auth(victim))).json()["id"]
        if endpoint == "read principal":
            return await c.get(f"/v1/principals/{me}", headers=headers)
        return await c.post(f"/v1/principals/{me}/revoke", headers=headers)
    if endpoint == "who am i":
        return await c.get("/v1/principals/me", headers=headers)
    entry_id = await _new_entry(api, admin, restricted="restricted" in endpoint)
    base = f"/v1/watchlist/{entry_id}"
    if endpoint.startswith("read"):
        return await c.get(base, headers=headers)
    if endpoint.startswith("patch"):
        return await c.patch(base, json={"case": {"summary": "changed"}}, headers=headers)
    if endpoint == "cancel entry":
        return await c.post(f"{base}/cancel", json={"reason": "test"}, headers=headers)
    if "versions" in endpoint:
        return await c.get(f"{base}/versions", headers=headers)
    if endpoint == "entry sightings":
        return await c.get(f"{base}/sightings", headers=headers)
    raise AssertionError(endpoint)


@pytest.mark.parametrize(
    ("endpoint", "role", "expected"),
    [
        pytest.param(endpoint, role, codes[i], id=f"{endpoint}-{role}")
        for endpoint, codes in MATRIX.items()
        for i, role in enumerate(ROLES)
    ],
)
async def test_role_endpoint_matrix(
    api: Api, tokens: dict[str, str | None], endpoint: str, role: str, expected: int
) -> None:
    admin = tokens["admin"]
    assert admin is not None
    response = await _call(api, endpoint, auth(tokens[role]), admin)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert (
            response.json()["error"]["code"]
            in {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expected]
        )
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_matrix_covers_every_route_of_the_issue() -> None:
    from failsafe.app import create_app

    routes = {
        (method.upper(), path)
        for path, operations in create_app().openapi()["paths"].items()
        for method in operations
        if path.startswith(("/v1/watchlist", "/v1/audit", "/v1/principals"))
    }
    # 15 routes; the matrix tries each (three of them again on a restricted entry).
    assert routes == {
        ("GET", "/v1/watchlist"),
        ("POST", "/v1/watchlist"),
        ("POST", "/v1/watchlist/import"),
        ("GET", "/v1/watchlist/{entry_id}"),
        ("PATCH", "/v1/watchlist/{entry_id}"),
        ("POST", "/v1/watchlist/{entry_id}/cancel"),
        ("GET", "/v1/watchlist/{entry_id}/versions"),
        ("GET", "/v1/watchlist/{entry_id}/sightings"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/principals"),
        ("POST", "/v1/principals"),
        ("POST", "/v1/principals/officers"),
        ("GET", "/v1/principals/me"),
        ("GET", "/v1/principals/{principal_id}"),
        ("POST", "/v1/principals/{principal_id}/revoke"),
    }
