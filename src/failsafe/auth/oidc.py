"""OpenID Connect single sign-on: JWT bearer tokens from the deployment's identity provider.

`OidcVerifier` is a `Service` (`state.services.find(OidcVerifier)`), started by the app when
`auth.oidc.issuer` is set. It reads the provider's discovery document and its keys (JWKS), and
verifies a token's signature, issuer, audience and times; `identity` maps the verified claims to
a failsafe role, bureau and display name (settings `auth.oidc.*`).

Invariants:
- the algorithm comes from the allow-list in the settings, never from the token's header alone
  (`none` and HMAC are never accepted: failsafe.settings.OIDC_ALGORITHMS);
- `iss`, `aud`, `exp` and `iat` are required; `exp`/`nbf` are checked with a small leeway;
- keys are cached for `jwks_cache_seconds`; a token naming a key id we do not hold reads the keys
  again (a rotation at the provider), at most once per `jwks_min_refresh_seconds`;
- no failure message, log line or exception carries the token or its claims' personal values
  (names): failures say which check failed, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from failsafe.contract import ROLES, Role
from failsafe.errors import Forbidden, Unauthorized
from failsafe.kit.codes import is_country_code
from failsafe.settings import OidcSettings

log = logging.getLogger(__name__)

# Discovery documents and key sets are small; anything bigger is not what we asked for.
_MAX_DOCUMENT_BYTES = 1024 * 1024


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (three base64url parts, a JSON header), not one of our opaque `fs_` tokens."""
    return token.startswith("eyJ") and token.count(".") == 2


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a verified token says the caller is, as failsafe sees them."""

    issuer: str
    subject: str
    name: str
    role: Role
    bureau_code: str | None


@dataclass(frozen=True, slots=True)
class ProviderEndpoints:
    """What the dashboard needs of the provider for the authorization-code flow."""

    authorization_endpoint: str
    token_endpoint: str


class OidcVerifier:
    """Verifies the provider's tokens; `ready` once its keys have been read."""

    name = "oidc"

    def __init__(self, settings: OidcSettings) -> None:
        if settings.issuer is None:
            raise ValueError("OidcVerifier needs auth.oidc.issuer")
        self.settings = settings
        self.issuer: str = settings.issuer
        self._keys: dict[str, Any] = {}
        self._read_at = float("-inf")  # monotonic time of the last successful read of the keys
        self._tried_at = float("-inf")  # ... of the last attempt, successful or not
        self._discovery: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return bool(self._keys)

    async def start(self) -> None:
        # The provider may be down while failsafe starts: opaque tokens still work, /readyz shows
        # `oidc` not ready, and the first token re-reads the keys.
        try:
            await self._refresh()
        except (OSError, ValueError, KeyError):
            log.warning(
                "OIDC provider %s not reachable at start-up; retrying on demand", self.issuer
            )

    async def stop(self) -> None:
        return None

    # -- the provider's documents -----------------------------------------------------------

    async def _get_json(self, url: str) -> dict[str, Any]:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the provider's URLs must be http(s)")

        def fetch() -> bytes:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (scheme checked above)
            with urllib.request.urlopen(request, timeout=self.settings.http_timeout) as response:  # noqa: S310
                body: bytes = response.read(_MAX_DOCUMENT_BYTES + 1)
            if len(body) > _MAX_DOCUMENT_BYTES:
                raise ValueError("provider document too large")
            return body

        document = json.loads(await asyncio.to_thread(fetch))
        if not isinstance(document, dict):
            raise ValueError("provider document is not a JSON object")
        return document

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer") != self.issuer:
                raise ValueError("the discovery document names another issuer")
            self._discovery = document
        return self._discovery

    async def endpoints(self) -> ProviderEndpoints:
        document = await self.discovery()
        return ProviderEndpoints(
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
        )

    async def _refresh(self) -> None:
        self._tried_at = time.monotonic()
        document = await self.discovery()
        jwks = await self._get_json(str(document["jwks_uri"]))
        keys: dict[str, Any] = {}
        for jwk in jwks.get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk.get("kid", ""))] = jwt.PyJWK(jwk).key
            except jwt.PyJWTError:
                continue  # a key type this library does not know: not one we can verify with
        self._keys = keys
        self._read_at = time.monotonic()

    async def _key(self, kid: str) -> Any:
        now = time.monotonic()
        stale = now - self._read_at > self.settings.jwks_cache_seconds
        if stale or kid not in self._keys:
            async with self._lock:
                now = time.monotonic()
                stale = now - self._read_at > self.settings.jwks_cache_seconds
                may_retry = now - self._tried_at >= self.settings.jwks_min_refresh_seconds
                if (stale or kid not in self._keys) and may_retry:
                    try:
                        await self._refresh()
                    except (OSError, ValueError, KeyError):
                        log.warning("could not read the OIDC provider's keys")
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("identity token signed with an unknown key")
        return key

    # -- tokens ---------------------------------------------------------------------------

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience and times hold; else
        Unauthorized (whose message names the failed check, never the token)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed identity token") from None
        if header.get("alg") not in self.settings.algorithms:
            raise Unauthorized("identity token algorithm not allowed")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=self.settings.algorithms,
                audience=self.settings.audience,
                issuer=self.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("identity token expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("identity token for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("identity token from another issuer") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid identity token") from None
        return claims

    def identity(self, claims: dict[str, Any]) -> Identity:
        """The caller's role, bureau and name from verified claims (settings `auth.oidc.*`);
        Forbidden when they carry no failsafe role, or no bureau for a role that needs one."""
        s = self.settings
        role = _role(claims.get(s.role_claim), s.role_map) or s.default_role
        if role is None:
            raise Forbidden("the identity token carries no failsafe role")
        bureau = claims.get(s.bureau_claim)
        bureau_code = bureau.strip().upper() if isinstance(bureau, str) else None
        if bureau_code is not None and not is_country_code(bureau_code):
            raise Forbidden("the identity token's bureau is not an alpha-3 country code")
        if role != "admin" and bureau_code is None:
            raise Forbidden(f"the identity token carries no bureau for role {role}")
        subject = str(claims["sub"])
        name = claims.get(s.name_claim) or claims.get("preferred_username") or subject
        return Identity(
            issuer=self.issuer,
            subject=subject,
            name=str(name)[:200],
            role=role,
            bureau_code=bureau_code if role != "admin" else None,
        )


def _role(value: Any, role_map: dict[str, Role]) -> Role | None:
    values = value if isinstance(value, list) else [value]
    found: set[Role] = set()
    for item in values:
        if not isinstance(item, str):
            continue
        if item in role_map:
            found.add(role_map[item])
        for role in ROLES:
            if item == role:
                found.add(role)
    return next((role for role in ROLES if role in found), None)


def provider_origin(url: str) -> str:
    """`scheme://host[:port]` of a provider URL: what the page's CSP must let it connect to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
