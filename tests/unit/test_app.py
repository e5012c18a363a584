"""The app skeleton on the embedded default: health, readiness, error shape, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from failsafe.app import create_app
from failsafe.errors import NotFound
from failsafe.settings import DatabaseSettings, Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'fs.db'}"))


def test_health_and_ready_on_embedded_sqlite(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        checks = ready.json()["checks"]
        assert checks["database"] == checks["screening"] == "ok"
        assert set(checks.values()) == {"ok"}


def test_not_ready_when_kafka_is_configured_but_absent(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.kafka.bootstrap_servers = "127.0.0.1:1"  # nothing listens on port 1
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"] == "unavailable"


def test_errors_have_one_json_shape(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))

    @app.get("/boom")
    async def boom() -> None:
        raise NotFound("no such entry")

    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no such entry"}}


def test_settings_read_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILSAFE_DATABASE__URL", "postgresql+asyncpg://u:p@db/failsafe")
    monkeypatch.setenv("FAILSAFE_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("FAILSAFE_KAFKA__TOPICS__ALERTS", "custom.alerts")
    settings = Settings()
    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.kafka.topics.alerts == "custom.alerts"
    assert settings.kafka.topics.events == "failsafe.events.v1"
    assert not settings.embedded


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("FAILSAFE_DATABASE__URL", "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(key, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.embedded
    assert settings.database.url.startswith("sqlite+aiosqlite")
    assert settings.kafka.topics.events_dlq == "failsafe.events.dlq.v1"


def test_metrics_are_exposed(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path))) as client:
        body = client.get("/metrics").text
    assert "failsafe_events_consumed_total" in body
    assert "failsafe_consumer_lag" in body


def test_unexpected_errors_are_logged_without_their_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_settings(tmp_path))

    @app.get("/crash")
    async def crash() -> None:
        raise KeyError("IVAN PETROV")  # a message quoting personal data

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert "unhandled KeyError in GET /crash at test_app.py:" in caplog.text
    assert "PETROV" not in caplog.text
