"""The one settings class: environment variables with the FAILSAFE_ prefix, `__` for nesting."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field, SecretStr
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


class IngestSettings(BaseModel):
    # On SIGTERM, seconds the batch in flight may take to finish; then it is abandoned, which is
    # safe: its offsets are not committed, so it is replayed. Clients then close within ~5 s.
    shutdown_timeout: float = Field(default=10.0, ge=0)


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


class AuthSettings(BaseModel):
    # Failed authentications allowed per client address per minute before 429.
    max_failures_per_minute: int = Field(default=20, ge=1)
    # Optional bootstrap admin token for a first run; stored only as a hash at start-up.
    bootstrap_admin_token: SecretStr | None = None


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
    auth: AuthSettings = AuthSettings()
    alarms: AlarmSettings = AlarmSettings()  # issue 12
    server: ServerSettings = ServerSettings()
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def embedded(self) -> bool:
        """True when no Kafka is configured: everything runs in one process."""
        return self.kafka.bootstrap_servers is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
