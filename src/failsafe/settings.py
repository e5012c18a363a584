"""The one settings class: environment variables with the FAILSAFE_ prefix, `__` for nesting.

Every setting is listed in the README's settings table (tests/unit/test_settings_table.py keeps
the two in step). Inconsistent settings fail when they are read, with a message naming the
setting and never quoting a secret's value (`describe_errors`).
"""

from __future__ import annotations

import os
import ssl
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    # The embedded default: a SQLite file in the working directory. Production sets
    # postgresql+asyncpg://user:password@host:5432/failsafe
    url: str = "sqlite+aiosqlite:///./failsafe.db"
    pool_size: int = Field(default=10, ge=1)
    echo: bool = False
    # Run migrations at start-up. None: yes on SQLite (the embedded mode), no on PostgreSQL, where
    # `failsafe db upgrade` is a deliberate deployment step.
    auto_migrate: bool | None = None


class TopicSettings(BaseModel):
    events: str = "failsafe.events.v1"
    events_dlq: str = "failsafe.events.dlq.v1"
    alerts: str = "failsafe.alerts.v1"
    alarms: str = "failsafe.alarms.v1"  # issue 12
    alarms_dlq: str = "failsafe.alarms.dlq.v1"  # issue 12


class KafkaSettings(BaseModel):
    # None means no Kafka: in-memory queues inside one process (the embedded mode).
    bootstrap_servers: str | None = None
    client_id: str = "failsafe"
    consumer_group: str = "failsafe-ingest"
    topics: TopicSettings = TopicSettings()
    max_event_bytes: int = Field(default=256 * 1024, ge=1024)
    # Seconds a publish (alerts, dead letters) may wait for the broker's acknowledgement before the
    # batch fails and is retried with backoff (the producer and what it holds are dropped).
    publish_timeout: float = Field(default=10.0, gt=0)
    # Security, for every producer, consumer and admin client (failsafe.kit.kafka.client_options).
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # TLS: the CA bundle that signed the brokers' certificates (None: the system's CAs), and a
    # client certificate with its key for brokers that require one (mutual TLS).
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    # Whether the broker's certificate must name the host failsafe connects to. Leave it on.
    ssl_check_hostname: bool = True
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    @model_validator(mode="after")
    def _consistent_security(self) -> KafkaSettings:
        # Checked when the settings are read, so that a process refuses to start with settings
        # that could never connect, instead of retrying forever and only saying "not ready".
        # Messages name settings, never their values.
        protocol = self.security_protocol
        problems: list[str] = []
        uses_sasl = protocol.startswith("SASL_")
        uses_tls = protocol.endswith("SSL")
        if uses_sasl:
            missing = [
                name
                for name, value in (
                    ("sasl_mechanism", self.sasl_mechanism),
                    ("sasl_username", self.sasl_username),
                    ("sasl_password", self.sasl_password),
                )
                if not value or (isinstance(value, SecretStr) and not value.get_secret_value())
            ]
            if missing:
                problems.append(f"security_protocol {protocol} needs {', '.join(missing)}")
        elif self.sasl_mechanism or self.sasl_username or self.sasl_password:
            problems.append(
                f"SASL settings are set but security_protocol is {protocol} "
                "(use SASL_SSL or SASL_PLAINTEXT)"
            )
        tls_files = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        if not uses_tls and (any(tls_files.values()) or self.ssl_key_password):
            problems.append(
                f"TLS settings are set but security_protocol is {protocol} (use SSL or SASL_SSL)"
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            problems.append("ssl_keyfile is set without ssl_certfile")
        if self.ssl_key_password and not self.ssl_keyfile and not self.ssl_certfile:
            problems.append("ssl_key_password is set without ssl_keyfile or ssl_certfile")
        for name, path in tls_files.items():
            if path is not None and not (path.is_file() and os.access(path, os.R_OK)):
                problems.append(f"{name}: no readable file at {path}")
        if not problems and uses_tls:
            try:
                self.tls_context()
            except (ssl.SSLError, ValueError) as exc:
                problems.append(
                    "the TLS files could not be loaded (ssl_cafile, ssl_certfile, ssl_keyfile, "
                    f"ssl_key_password): {type(exc).__name__} {getattr(exc, 'reason', '')}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def tls_context(self) -> ssl.SSLContext:
        """The client TLS context: the configured CA (else the system's), the client
        certificate when one is set, the broker's name checked unless explicitly turned off."""
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        if self.ssl_certfile:
            secret = self.ssl_key_password
            context.load_cert_chain(
                str(self.ssl_certfile),
                str(self.ssl_keyfile) if self.ssl_keyfile else None,
                # A callable, never None: with None, OpenSSL would prompt on the terminal for the
                # password of an encrypted key (a server hangs); this fails instead.
                password=lambda: secret.get_secret_value() if secret else "",
            )
        context.check_hostname = self.ssl_check_hostname
        if not self.ssl_check_hostname:
            # The chain is still verified; only the name is not compared.
            context.verify_mode = ssl.CERT_REQUIRED
        return context


class IngestSettings(BaseModel):
    # On SIGTERM, seconds the batch in flight may take to finish; then it is abandoned, which is
    # safe: its offsets are not committed, so it is replayed. Clients then close within ~5 s.
    shutdown_timeout: float = Field(default=10.0, ge=0)


class MatchingSettings(BaseModel):
    # Score from which a match is an alert (ingest) or shown (POST /v1/screen, which may ask for
    # another per request). Same as failsafe.matching.DEFAULT_THRESHOLD, which `failsafe
    # screen` uses offline (tests/unit/test_settings_table.py keeps the two equal).
    threshold: float = Field(default=0.80, ge=0.0, le=1.0)


class HubSettings(BaseModel):
    """The websocket hub's limits (failsafe.hub.service.Hub takes them as they are named)."""

    # Seconds an alert that arrived ahead of a missing lower id waits before the gap is filled
    # from the database.
    gap_timeout: float = Field(default=0.05, gt=0)
    # Seconds between database polls for alerts whose publisher died after commit.
    poll_interval: float = Field(default=2.0, gt=0)
    # Per connection: frames queued for a socket; a client further behind is disconnected (it
    # resumes with `since`).
    max_queue: int = Field(default=1000, ge=1)
    # Per connection: live alerts held back while its replay runs.
    replay_buffer: int = Field(default=10_000, ge=1)
    # Alerts read from the database per replay query.
    replay_page: int = Field(default=500, ge=1)
    # Seconds between pings, and how long a pong may take before the socket is closed.
    ping_interval: float = Field(default=20.0, gt=0)
    ping_timeout: float = Field(default=20.0, gt=0)
    # Seconds one frame may take to send before the client counts as too slow.
    send_timeout: float = Field(default=10.0, gt=0)
    # Alerts held in order while a lower id is missing (beyond: the database fill delivers).
    max_pending: int = Field(default=100_000, ge=1)
    # Alert statuses remembered to turn a re-published alert into an `alert_update`.
    status_cache: int = Field(default=100_000, ge=1)


class AlarmSettings(BaseModel):
    """Project Stone (issue 12): how radiation alarms meet lane crossings (docs/alarms.md)."""

    # An alarm's occupancy window is widened by these seconds before its start and after its end.
    tolerance_before_s: float = Field(default=30.0, ge=0)
    tolerance_after_s: float = Field(default=60.0, ge=0)
    # How late either side may arrive and still link; crossings neither a hit nor linked are
    # deleted once this has passed since they were received (data minimisation).
    lateness_s: float = Field(default=600.0, gt=0)
    # Adjacent lanes per point ({"DEU-POL-A12": {"3": ["2", "4"]}}); a point not listed uses
    # numeric neighbours (lane 3: lanes 2 and 4).
    adjacent_lanes: dict[str, dict[str, list[str]]] = {}
    # Link confidence: in the occupancy itself 1.0, only in the widened margin this; an adjacent
    # lane (or a lane-less handheld alarm) multiplies by `adjacent_factor`.
    margin_confidence: float = Field(default=0.7, ge=0, le=1)
    adjacent_factor: float = Field(default=0.5, ge=0, le=1)
    # A medical or NORM identification at least this confident, with no hit, is `low`.
    confident_identification: float = Field(default=0.8, ge=0, le=1)
    max_alarm_bytes: int = Field(default=1024 * 1024, ge=1024)
    consumer_group: str = "failsafe-alarms"
    # Alarms of one batch recorded at once by a worker (those at one point still go in turn).
    concurrency: int = Field(default=4, ge=1, le=64)
    # Seconds between purges of expired lane crossings (run by whoever records crossings).
    purge_interval_s: float = Field(default=30.0, gt=0)


class GeoPoint(BaseModel):
    """A place in WGS 84 degrees."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class DashboardSettings(BaseModel):
    """Issue 14: the bureau dashboard's map of movements."""

    # Crossing point -> where it is ({"DEU-POL-A12": {"lat": 52.35, "lon": 14.55}}); a point not
    # listed is placed by its events' `crossing.location`, else listed without a map mark.
    crossing_points: dict[str, GeoPoint] = {}


# Asymmetric signatures only: with a public JWKS, an HMAC algorithm would let anyone who has
# read the public key sign tokens with it (algorithm confusion), and `none` signs nothing.
OIDC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class OidcSettings(BaseModel):
    """Single sign-on through an OpenID Connect provider (failsafe.auth.oidc); off without
    `issuer`."""

    # The provider's issuer (the tokens' `iss`, exactly); its discovery document is read from
    # ISSUER/.well-known/openid-configuration. None (the default): single sign-on is off.
    issuer: str | None = None
    # The `aud` a token must carry to be accepted here.
    audience: str = "failsafe"
    # Signature algorithms accepted (an allow-list: the token's header never chooses).
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    # The dashboard's public client (authorization code with PKCE); None: no sign-in button.
    client_id: str | None = None
    scope: str = "openid profile"
    # Where the failsafe role and bureau are in the token's claims, and the display name.
    role_claim: str = "failsafe_role"
    bureau_claim: str = "failsafe_bureau"
    name_claim: str = "name"
    # Claim values (a string or a list, e.g. groups) to roles; a value that is a role's own
    # name maps to it. Several roles: the first in admin, analyst, bureau, border order.
    role_map: dict[str, Literal["admin", "analyst", "bureau", "border"]] = Field(
        default_factory=dict
    )
    # The role of a signed-in person whose token maps to none; None: refused (403).
    default_role: Literal["analyst", "bureau", "border"] | None = None
    # Seconds the provider's keys are kept before being read again.
    jwks_cache_seconds: float = Field(default=300, gt=0)
    # A token signed with a key not in the cache reads the keys again (a rotation), at most
    # once per this many seconds, so that made-up key ids cannot make us hammer the provider.
    jwks_min_refresh_seconds: float = Field(default=10, ge=0)
    # Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Seconds to wait for the provider's discovery document or keys.
    http_timeout: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _asymmetric_only(self) -> OidcSettings:
        unknown = sorted(set(self.algorithms) - set(OIDC_ALGORITHMS))
        if unknown:
            raise ValueError(
                f"auth.oidc.algorithms: {', '.join(unknown)} not allowed "
                f"(one of {', '.join(OIDC_ALGORITHMS)})"
            )
        return self


class AuthSettings(BaseModel):
    # Failed authentications allowed per client address per minute before 429.
    max_failures_per_minute: int = Field(default=20, ge=1)
    # Optional bootstrap admin token for a first run; stored only as a hash at start-up.
    bootstrap_admin_token: SecretStr | None = None
    oidc: OidcSettings = OidcSettings()


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed (uvicorn's
    # forwarded_allow_ips): comma-separated addresses or networks, "*" for any. Empty (the
    # default): no proxy is trusted and the client is the peer, so that a client cannot choose
    # its own address (and with it the failed-authentication budget it is counted against).
    forwarded_allow_ips: str = ""
    # uvicorn's access log (one line per request and websocket), with `token=`/`ticket=` values
    # and credentials redacted like every other line (failsafe.logging).
    access_log: bool = False
    # Seconds a client has, from connecting (or starting its next request), to send the request
    # line and headers; then the connection is closed (failsafe.kit.server).
    header_timeout: float = Field(default=10.0, gt=0)
    # Request line and headers together at most this many bytes (431 beyond).
    max_header_bytes: int = Field(default=64 * 1024, ge=8 * 1024)
    # Seconds an idle keep-alive connection stays open between requests.
    keep_alive_timeout: int = Field(default=5, ge=1)
    # A separate port for `/metrics` (on `host`), so that the API port does not expose it; then
    # the API port answers 404 there. None (the default): `/metrics` on the API port.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)


class RetentionSettings(BaseModel):
    # Days a closed alert (closed, false_positive, withdrawn) is kept after its last change, and
    # a sighting after it happened (while no kept alert refers to it); None keeps them for ever.
    # failsafe.alerts.retention; `failsafe purge` applies them.
    closed_alerts_days: int | None = Field(default=None, ge=1)
    sightings_days: int | None = Field(default=None, ge=1)
    # Seconds between purges inside `serve`; 0 (the default): serve does not purge.
    purge_interval: float = Field(default=0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FAILSAFE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database: DatabaseSettings = DatabaseSettings()
    kafka: KafkaSettings = KafkaSettings()
    ingest: IngestSettings = IngestSettings()
    matching: MatchingSettings = MatchingSettings()
    hub: HubSettings = HubSettings()
    auth: AuthSettings = AuthSettings()
    alarms: AlarmSettings = AlarmSettings()  # issue 12
    dashboard: DashboardSettings = DashboardSettings()  # issue 14
    server: ServerSettings = ServerSettings()
    retention: RetentionSettings = RetentionSettings()
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def embedded(self) -> bool:
        """True when no Kafka is configured: everything runs in one process."""
        return self.kafka.bootstrap_servers is None


class SettingsError(Exception):
    """The environment's settings are invalid; the message names each setting and why."""


def describe_errors(exc: ValidationError) -> str:
    """One line per invalid setting, as its environment variable, without its value (pydantic's
    own message quotes the input, which may be a password)."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = "__".join(str(part) for part in err["loc"]).upper()
        var = f"FAILSAFE_{loc}" if loc else "FAILSAFE_*"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{var}: {msg}")
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment (and `.env`); SettingsError when they are invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(f"invalid settings:\n{describe_errors(exc)}") from None
