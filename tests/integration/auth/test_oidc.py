"""Single sign-on against a REAL OpenID Connect provider (mock-oauth2-server, started locally):
its tokens work on the API and the websocket ticket endpoint, as the signed-in person's own
principal; claims map to role and bureau; tokens for another audience or issuer, expired, signed
with an unknown key or not signed at all are refused with 401, and the token is never logged."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa

from failsafe.auth.oidc import OidcVerifier
from tests.fixtures.app import Api, api_client, auth
from tests.fixtures.oidc import ISSUER, PROVIDER, oidc_provider, provider_token  # noqa: F401

pytestmark = pytest.mark.integration


def _oidc(**overrides: Any) -> dict[str, Any]:
    return {"issuer": ISSUER, "audience": "failsafe", "client_id": "dashboard", **overrides}


@pytest_asyncio.fixture
async def api(pg_url: str, oidc_provider: str) -> AsyncIterator[Api]:  # noqa: F811
    async with api_client(pg_url, max_failures_per_minute=1000, oidc=_oidc()) as api:
        yield api


async def test_a_provider_token_signs_the_person_in_as_themselves(
    fresh_pg_url: str,
    oidc_provider: str,  # noqa: F811
) -> None:
    # A database of its own: this test revokes the person's principal.
    async with api_client(fresh_pg_url, oidc=_oidc()) as api:
        await _signs_in_as_themselves(api)


async def _signs_in_as_themselves(api: Api) -> None:
    token = provider_token("officer-fra")
    me = await api.client.get("/v1/principals/me", headers=auth(token))
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["kind"], body["role"], body["bureau_code"]) == ("sso", "bureau", "FRA")
    assert body["name"] == "Officer Dupont" and body["id"].startswith("sso_")
    # A second token of the same person: the same principal, not a new one.
    again = await api.client.get("/v1/principals/me", headers=auth(provider_token("officer-fra")))
    assert again.json()["id"] == body["id"]
    # The bureau's alerts, and a websocket ticket.
    assert (await api.client.get("/v1/alerts", headers=auth(token))).status_code == 200
    ticket = await api.client.post("/v1/alerts/stream/ticket", headers=auth(token))
    assert ticket.status_code == 200 and ticket.json()["ticket"].startswith("fst_")
    # Revoked by an admin: refused, whatever the provider says.
    admin = await api.principal("admin")
    revoked = await api.client.post(f"/v1/principals/{body['id']}/revoke", headers=auth(admin))
    assert revoked.status_code == 200
    refused = await api.client.get("/v1/principals/me", headers=auth(provider_token("officer-fra")))
    assert refused.status_code == 401


async def test_claims_map_to_role_and_bureau(pg_url: str, oidc_provider: str) -> None:  # noqa: F811
    settings = _oidc(role_claim="groups", role_map={"failsafe-analysts": "analyst"})
    async with api_client(pg_url, oidc=settings) as api:
        me = await api.client.get("/v1/principals/me", headers=auth(provider_token("analyst-deu")))
        assert me.status_code == 200, me.text
        assert (me.json()["role"], me.json()["bureau_code"]) == ("analyst", "DEU")
        # The token names no role that maps here: signed in, but not allowed (403).
        no_role = await api.client.get(
            "/v1/principals/me", headers=auth(provider_token("officer-fra"))
        )
        assert no_role.status_code == 403
    async with api_client(pg_url, oidc=_oidc()) as api:
        no_bureau = await api.client.get(
            "/v1/principals/me", headers=auth(provider_token("no-bureau"))
        )
        assert no_bureau.status_code == 403
        assert "bureau" in no_bureau.json()["error"]["message"]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": "failsafe",
        "sub": "mallory",
        "iat": now,
        "exp": now + 300,
        "failsafe_role": "admin",
    }


async def test_bad_tokens_are_refused_and_never_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "another audience": provider_token("other-audience"),
        "expired": provider_token("expired"),
        # Another issuer of the same provider: its own key (kid `other`), unknown here.
        "another issuer": provider_token("officer-fra", issuer=f"{PROVIDER}/other"),
        # The provider's key id, but signed with a key of our own.
        "forged signature": jwt.encode(_claims(), own_key, "RS256", headers={"kid": "failsafe"}),
        "unknown key": jwt.encode(_claims(), own_key, "RS256", headers={"kid": "rotated-away"}),
        "alg none": f"{_b64({'alg': 'none', 'kid': 'failsafe'})}.{_b64(_claims())}.",
    }
    verifier = api.state.services.get(OidcVerifier)
    with caplog.at_level(logging.DEBUG):
        for what, token in bad.items():
            r = await api.client.get("/v1/principals/me", headers=auth(token))
            assert r.status_code == 401, (what, r.text)
            assert r.json()["error"]["code"] == "unauthorized"
            assert r.headers["WWW-Authenticate"] == "Bearer"
    for token in bad.values():
        assert token not in caplog.text
        assert token.split(".")[1] not in caplog.text
    assert verifier.ready  # the unknown key ids did not lose the provider's keys


async def test_same_key_another_issuer_is_refused(pg_url: str, oidc_provider: str) -> None:  # noqa: F811
    """The provider names its issuer after the host it is asked at: configured as `localhost`,
    a token signed with the same key but issued as `127.0.0.1` has the wrong `iss`."""
    localhost = ISSUER.replace("127.0.0.1", "localhost")
    async with api_client(pg_url, oidc=_oidc(issuer=localhost)) as api:
        good = provider_token("officer-fra", issuer=localhost)
        assert (await api.client.get("/v1/principals/me", headers=auth(good))).status_code == 200
        wrong = provider_token("officer-fra")
        r = await api.client.get("/v1/principals/me", headers=auth(wrong))
        assert r.status_code == 401 and "issuer" in r.json()["error"]["message"]


async def test_unknown_key_rereads_the_keys_at_most_so_often(
    pg_url: str,
    oidc_provider: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def unknown() -> dict[str, str]:
        return auth(jwt.encode(_claims(), own_key, "RS256", headers={"kid": "rotated-in"}))

    for min_refresh, rereads in ((0.0, 5), (3600.0, 0)):
        oidc = _oidc(jwks_min_refresh_seconds=min_refresh)
        async with api_client(pg_url, max_failures_per_minute=1000, oidc=oidc) as api:
            verifier = api.state.services.get(OidcVerifier)
            reads = 0
            refresh = verifier._refresh

            async def counted(refresh: Callable[[], Awaitable[None]] = refresh) -> None:
                nonlocal reads
                reads += 1
                await refresh()

            monkeypatch.setattr(verifier, "_refresh", counted)
            for _ in range(5):
                r = await api.client.get("/v1/principals/me", headers=unknown())
                assert r.status_code == 401
            # A known key does not re-read the keys.
            good = auth(provider_token("officer-fra"))
            assert (await api.client.get("/v1/principals/me", headers=good)).status_code == 200
            assert reads == rereads, min_refresh


async def test_the_dashboard_learns_the_provider(api: Api, pg_url: str) -> None:
    r = await api.client.get("/v1/auth/oidc")
    assert r.status_code == 200
    assert r.json() == {
        "enabled": True,
        "issuer": ISSUER,
        "client_id": "dashboard",
        "scope": "openid profile",
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
    }
    async with api_client(pg_url) as plain:
        off = await plain.client.get("/v1/auth/oidc")
        assert off.status_code == 200
        assert off.json()["enabled"] is False and off.json()["token_endpoint"] is None
