"""Tokens and principals on real PostgreSQL: 401/403 with the error shape, revocation, the
failed-authentication rate limit, the principals API, the bootstrap admin, and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from failsafe.auth.service import authenticate_token
from failsafe.db.models import Bureau, Principal
from failsafe.errors import Unauthorized
from tests.conftest import scan_output
from tests.fixtures.app import api_client, auth

pytestmark = pytest.mark.integration
FAILSAFE = str(Path(sys.executable).with_name("failsafe"))


async def test_missing_bad_and_revoked_tokens(pg_url: str) -> None:
    async with api_client(pg_url) as api:
        c = api.client
        missing = await c.get("/v1/watchlist")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json() == {
            "error": {"code": "unauthorized", "message": "missing bearer token"}
        }
        basic = await c.get("/v1/watchlist", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401
        bad = await c.get("/v1/watchlist", headers=auth("fs_" + "x" * 43))
        assert bad.status_code == 401

        admin = await api.principal("admin")
        bureau = await api.principal("bureau", "NLD")
        assert (await c.get("/v1/watchlist", headers=auth(bureau))).status_code == 200
        me = (await c.get("/v1/principals/me", headers=auth(bureau))).json()
        assert (me["role"], me["bureau_code"]) == ("bureau", "NLD")
        assert bureau.startswith("fs_") and len(bureau) >= 40
        assert me["token_prefix"] == bureau[:9]
        r = await c.post(f"/v1/principals/{me['id']}/revoke", headers=auth(admin))
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
        revoked = await c.get("/v1/watchlist", headers=auth(bureau))
        assert revoked.status_code == 401
        forbidden = await c.get("/v1/audit", headers=auth(await api.principal("analyst", "NLD")))
        assert forbidden.json()["error"]["code"] == "forbidden"


async def test_tokens_are_stored_only_as_sha256(pg_url: str) -> None:
    async with api_client(pg_url) as api:
        token = await api.principal("border", "BEL")
        async with api.state.sessionmaker() as s:
            row = await s.scalar(
                select(Principal).where(
                    Principal.token_hash == hashlib.sha256(token.encode()).hexdigest()
                )
            )
            assert row is not None and row.role == "border"
            assert token not in (row.token_hash, row.token_prefix)
            assert await s.get(Bureau, "BEL") is not None  # the bureau row was created
            principal = await authenticate_token(s, token)
            assert principal.id == row.id and principal.last_used_at is not None
            with pytest.raises(Unauthorized):
                await authenticate_token(s, token + "x")


async def test_failures_are_rate_limited_but_never_a_valid_token(pg_url: str) -> None:
    """One bureau behind one NAT address: a desk's stale token must not lock out its colleagues."""
    bad = auth("fs_" + "y" * 43)
    async with api_client(pg_url, max_failures_per_minute=3) as api:
        good = await api.principal("admin")
        for _ in range(3):
            r = await api.client.get("/v1/principals/me", headers=bad)
            assert r.status_code == 401
        blocked = await api.client.get("/v1/principals/me", headers=bad)
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "rate_limited"
        wait = blocked.json()["error"]["details"][0]["retry_after"]
        assert 0 < wait <= 60
        assert blocked.headers["Retry-After"] == str(wait)
        # A valid token from the same address still authenticates, on every route.
        for path in ("/v1/principals/me", "/v1/watchlist", "/v1/principals/me"):
            assert (await api.client.get(path, headers=auth(good))).status_code == 200
        # ...while failures keep getting 429 (not 401: nothing tells a guess from a typo).
        again = await api.client.get("/v1/watchlist", headers=bad)
        assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1


async def test_bootstrap_token_is_not_checked_from_an_address_over_budget(
    fresh_pg_url: str,
) -> None:
    """The operator may choose a weak bootstrap token: over the budget, it answers as a failure
    does, so guessing it stays limited; generated tokens are unguessable and stay valid."""
    token = "bootstrap-" + os.urandom(8).hex()
    async with api_client(
        fresh_pg_url, bootstrap_admin_token=SecretStr(token), max_failures_per_minute=2
    ) as api:
        assert (await api.client.get("/v1/principals/me", headers=auth(token))).status_code == 200
        for _ in range(2):
            r = await api.client.get("/v1/principals/me", headers=auth("fs_" + "z" * 43))
            assert r.status_code == 401
        r = await api.client.get("/v1/principals/me", headers=auth(token))
        assert r.status_code == 429 and "Retry-After" in r.headers


async def test_principals_api(pg_url: str) -> None:
    async with api_client(pg_url) as api:
        admin = await api.principal("admin")
        c = api.client
        r = await c.post(
            "/v1/principals",
            json={"role": "analyst", "bureau": "aut", "name": "Vienna"},
            headers=auth(admin),
        )
        assert r.status_code == 201
        created = r.json()
        assert created["bureau_code"] == "AUT" and created["token"].startswith("fs_")
        assert (await c.get("/v1/principals/me", headers=auth(created["token"]))).json()[
            "id"
        ] == created["id"]
        no_bureau = await c.post(
            "/v1/principals", json={"role": "analyst", "name": "x"}, headers=auth(admin)
        )
        assert no_bureau.status_code == 400
        bad_code = await c.post(
            "/v1/principals",
            json={"role": "analyst", "bureau": "ZZZ", "name": "x"},
            headers=auth(admin),
        )
        assert bad_code.status_code == 422
        listed = await c.get("/v1/principals", params={"bureau": "AUT"}, headers=auth(admin))
        assert created["id"] in [p["id"] for p in listed.json()["items"]]
        assert all("token" not in p for p in listed.json()["items"])
        one = await c.get(f"/v1/principals/{created['id']}", headers=auth(admin))
        assert one.json()["name"] == "Vienna"
        assert (await c.get("/v1/principals/nobody", headers=auth(admin))).status_code == 404
        page = await c.get("/v1/principals", params={"limit": 1}, headers=auth(admin))
        nxt = await c.get(
            "/v1/principals",
            params={"limit": 1, "cursor": page.json()["next_cursor"]},
            headers=auth(admin),
        )
        assert nxt.json()["items"][0]["id"] > page.json()["items"][0]["id"]


async def test_bootstrap_admin_from_settings(pg_url: str) -> None:
    token = "fs_bootstrap-" + os.urandom(8).hex()
    async with api_client(pg_url, bootstrap_admin_token=SecretStr(token)) as api:
        me = await api.client.get("/v1/principals/me", headers=auth(token))
        assert (me.status_code, me.json()["role"]) == (200, "admin")


async def _run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        FAILSAFE,
        *args,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    scan_output(f"failsafe {' '.join(args[:2])}", err.decode())  # stdout carries tokens by design
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_cli_principal_create_prints_a_working_token(
    pg_url: str, tmp_path: Path, backend: str
) -> None:
    url = pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'fs.db'}"
    env = {"FAILSAFE_DATABASE__URL": url}
    code, out, err = await _run(
        "principal",
        "create",
        "--role",
        "analyst",
        "--bureau",
        "LUX",
        "--name",
        "Luxembourg",
        env=env,
        cwd=tmp_path,
    )
    assert code == 0, err
    token = out.strip()
    assert token.startswith("fs_") and "\n" not in token
    assert "created principal" in err
    code, _, err = await _run(
        "principal", "create", "--role", "analyst", "--name", "x", env=env, cwd=tmp_path
    )
    assert code == 2 and "belongs to a bureau" in err
    async with api_client(url) as api:
        me = await api.client.get("/v1/principals/me", headers=auth(token))
        assert (me.status_code, me.json()["bureau_code"]) == (200, "LUX")
        pid = me.json()["id"]
    code, out, _ = await _run("principal", "list", env=env, cwd=tmp_path)
    assert pid in out and token not in out
    code, _, _ = await _run("principal", "revoke", pid, env=env, cwd=tmp_path)
    assert code == 0
    async with api_client(url) as api:
        assert (await api.client.get("/v1/principals/me", headers=auth(token))).status_code == 401


async def test_the_last_admin_and_ones_own_token_are_not_revoked_by_mistake(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    async with api_client(fresh_pg_url) as api:
        c = api.client
        first = await api.principal("admin")
        first_id = (await c.get("/v1/principals/me", headers=auth(first))).json()["id"]
        # Alone: refused, with or without confirmation.
        for params in ({}, {"confirm": "true"}):
            r = await c.post(
                f"/v1/principals/{first_id}/revoke", params=params, headers=auth(first)
            )
            assert r.status_code == 409, r.text
            assert r.json()["error"]["message"] == (
                "this is the last active admin: create another admin first"
            )
        second = await api.principal("admin")
        second_id = (await c.get("/v1/principals/me", headers=auth(second))).json()["id"]
        # One's own token: only with ?confirm=true.
        r = await c.post(f"/v1/principals/{first_id}/revoke", headers=auth(first))
        assert r.status_code == 409
        assert "?confirm=true" in r.json()["error"]["message"]
        assert (await c.get("/v1/principals/me", headers=auth(first))).status_code == 200
        r = await c.post(
            f"/v1/principals/{first_id}/revoke", params={"confirm": "true"}, headers=auth(first)
        )
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
        assert (await c.get("/v1/principals/me", headers=auth(first))).status_code == 401
        # Now the second is the last one.
        r = await c.post(
            f"/v1/principals/{second_id}/revoke", params={"confirm": "true"}, headers=auth(second)
        )
        assert r.status_code == 409
    # The command line keeps the last admin too.
    code, _, err = await _run(
        "principal", "revoke", second_id, env={"FAILSAFE_DATABASE__URL": fresh_pg_url},
        cwd=tmp_path,
    )
    assert code == 2 and "last active admin" in err
