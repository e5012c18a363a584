"""Kafka security settings: inconsistent ones are refused when read, naming the setting and never
quoting a secret; `client_options` gives every client the same TLS and SASL options. (The real
broker with TLS and SCRAM listeners: tests/integration/kafka/test_security.py.)"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import certifi
import pytest

from failsafe.kit.kafka import client_options
from failsafe.settings import KafkaSettings, SettingsError, get_settings

CA = Path(certifi.where())
SECRET = "correct-horse-battery-staple"
FAILSAFE = str(Path(sys.executable).parent / "failsafe")


def _error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(f"FAILSAFE_KAFKA__{key.upper()}", value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as info:
            get_settings()
    finally:
        get_settings.cache_clear()
    return str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"security_protocol": "SASL_SSL", "sasl_password": SECRET},
            "security_protocol SASL_SSL needs sasl_mechanism, sasl_username",
        ),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
             "sasl_username": "u"},
            "needs sasl_password",
        ),
        (
            {"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u", "sasl_password": SECRET},
            "SASL settings are set but security_protocol is PLAINTEXT",
        ),
        ({"ssl_cafile": str(CA)}, "TLS settings are set but security_protocol is PLAINTEXT"),
        (
            {"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"},
            "ssl_cafile: no readable file at /nonexistent/ca.pem",
        ),
        (
            {"security_protocol": "SSL", "ssl_keyfile": str(CA)},
            "ssl_keyfile is set without ssl_certfile",
        ),
        ({"security_protocol": "TLS"}, "FAILSAFE_KAFKA__SECURITY_PROTOCOL: Input should be"),
        (
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI", "sasl_username": "u",
             "sasl_password": SECRET},
            "FAILSAFE_KAFKA__SASL_MECHANISM: Input should be",
        ),
    ],
)
def test_inconsistent_settings_are_refused_without_their_values(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    message = _error(monkeypatch, **env)
    assert expected in message
    assert SECRET not in message


def test_the_cli_refuses_to_start_with_a_clear_message() -> None:
    env = {
        **os.environ,
        "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "FAILSAFE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "FAILSAFE_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "FAILSAFE_KAFKA__SASL_PASSWORD": SECRET,
    }
    done = subprocess.run(
        [FAILSAFE, "ingest", "--metrics-port", "0"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2
    assert "FAILSAFE_KAFKA: security_protocol SASL_SSL needs sasl_username" in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET not in done.stderr + done.stdout


def test_plaintext_options_are_the_bootstrap_servers_only() -> None:
    options = client_options(KafkaSettings(bootstrap_servers="k1:9092,k2:9092"))
    assert options == {"bootstrap_servers": "k1:9092,k2:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_options_carry_tls_and_credentials() -> None:
    kafka = KafkaSettings(
        bootstrap_servers="k1:9093",
        security_protocol="SASL_SSL",
        ssl_cafile=CA,
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="failsafe",
        sasl_password=SECRET,  # type: ignore[arg-type]  (pydantic makes it a SecretStr)
    )
    options: dict[str, Any] = client_options(kafka)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "failsafe"
    assert options["sasl_plain_password"] == SECRET
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    # The settings' own representation (what a log line of them would show) hides the secret.
    assert SECRET not in repr(kafka) and SECRET not in str(kafka.model_dump())


def test_ssl_without_a_ca_file_uses_the_system_store() -> None:
    options = client_options(KafkaSettings(bootstrap_servers="k:9093", security_protocol="SSL"))
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options


def test_a_client_key_with_the_wrong_password_is_refused_not_prompted_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key, cert = tmp_path / "client.key", tmp_path / "client.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=client",
         "-keyout", str(key), "-out", str(cert), "-passout", f"pass:{SECRET}"],
        check=True, capture_output=True, timeout=60,
    )
    base = {"security_protocol": "SSL", "ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    for password in (None, "wrong-password"):
        env = base | ({"ssl_key_password": password} if password else {})
        message = _error(monkeypatch, **env)
        assert "the TLS files could not be loaded" in message, message
    kafka = KafkaSettings.model_validate(
        base | {"bootstrap_servers": "k:9093", "ssl_key_password": SECRET}
    )
    assert isinstance(client_options(kafka)["ssl_context"], ssl.SSLContext)
