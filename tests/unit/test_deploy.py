"""deploy/ files can't be run here (no Docker engine): check what can be checked."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import yaml

from failsafe import cli
from failsafe.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_is_valid_yaml_and_uses_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"postgres", "kafka", "serve", "ingest", "migrate"} <= set(compose["services"])
    env = compose["services"]["serve"]["environment"]
    fields = Settings.model_fields
    for key in env:
        group, _, name = key.removeprefix("FAILSAFE_").lower().partition("__")
        assert group in fields, key
        if name:
            assert name in type(getattr(Settings(), group)).model_fields, key
    assert compose["services"]["ingest"]["command"][0] == "ingest"
    # Topics are a deliberate one-shot step the workers wait for (they only check them).
    topics = compose["services"]["topics"]
    assert topics["command"][:2] == ["kafka", "create-topics"]
    depends = compose["services"]["ingest"]["depends_on"]
    assert depends["topics"] == {"condition": "service_completed_successfully"}


def test_dockerfile_runs_the_cli_as_an_unprivileged_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["failsafe"]' in text
    assert "USER 10001:10001" in text and "--uid 10001" in text  # numeric: runAsNonRoot checks it
    assert "uv.lock" in text  # the image installs the locked dependencies
    assert "HEALTHCHECK" in text and "org.opencontainers.image.title" in text


def test_compose_runs_the_production_shape() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "kafka", "migrate", "serve", "ingest", "prometheus"} <= set(services)
    # Kafka keeps its log on a volume and says when it is ready; the processes wait for it.
    kafka = services["kafka"]
    assert any(v.endswith(":" + kafka["environment"]["KAFKA_LOG_DIRS"]) for v in kafka["volumes"])
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert "healthcheck" in kafka and "healthcheck" in services["postgres"]
    for name in ("serve", "ingest"):
        service = services[name]
        assert service["deploy"]["replicas"] == 2
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["serve"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    # ingest only checks its topics: the one-shot creates them once Kafka is healthy.
    assert services["ingest"]["depends_on"]["topics"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["topics"]["command"][:2] == ["kafka", "create-topics"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    # ingest listens for its probe and Prometheus beyond loopback, and is probed on that port.
    ingest = services["ingest"]
    assert ingest["command"][ingest["command"].index("--metrics-host") + 1] == "0.0.0.0"
    port = ingest["command"][ingest["command"].index("--metrics-port") + 1]
    probe = ["CMD", "python", "-m", "failsafe.healthcheck", "--port", port]
    assert ingest["healthcheck"]["test"] == probe
    # The first admin's step is written where an operator starts.
    assert "principal create --role admin" in (DEPLOY / "compose.yaml").read_text()
    # Prometheus scrapes every kind on the ports they serve /metrics on.
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        (sd["names"][0], sd["port"])
        for job in prometheus["scrape_configs"]
        for sd in job["dns_sd_configs"]
    }
    alarms_port = _probed_port(services["ingest-alarms"])
    assert targets == {("serve", 8000), ("ingest", int(port)), ("ingest-alarms", alarms_port)}


def _probed_port(service: dict[str, Any]) -> int:
    """The port a worker service listens on beyond loopback, checked to be where it is probed."""
    command = service["command"]
    assert command[command.index("--metrics-host") + 1] == "0.0.0.0"
    port = command[command.index("--metrics-port") + 1]
    probe = ["CMD", "python", "-m", "failsafe.healthcheck", "--port", port]
    assert service["healthcheck"]["test"] == probe
    return int(port)


def test_compose_runs_the_alarm_worker_monitored() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    alarms = services["ingest-alarms"]
    assert alarms["command"][0] == "ingest-alarms"
    # Its own port, next to ingest's: the CLI's defaults (9108, 9109), so both can share a host.
    defaults = {
        command.__name__: inspect.signature(command).parameters["metrics_port"].default.default
        for command in (cli.ingest, cli.ingest_alarms)
    }
    assert defaults == {"ingest": 9108, "ingest_alarms": 9109}
    assert _probed_port(alarms) == 9109 != _probed_port(services["ingest"])
    # It records into the migrated schema and only checks its topics, like ingest.
    assert alarms["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "topics": {"condition": "service_completed_successfully"},
    }
    assert alarms["deploy"]["replicas"] == 1
    assert alarms["image"] == services["ingest"]["image"]  # one image for every process kind
    assert alarms["environment"] == services["ingest"]["environment"]
    assert "ingest-alarms" in services["prometheus"]["depends_on"]
    # Its Prometheus job is named as the alert rules select the processes (failsafe-.*).
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {
        sd["names"][0]: job["job_name"]
        for job in prometheus["scrape_configs"]
        for sd in job["dns_sd_configs"]
    }
    assert jobs["ingest-alarms"] == "failsafe-ingest-alarms"
    rules = (DEPLOY / "prometheus" / "rules.yaml").read_text()
    assert 'up{job=~"failsafe-.*"}' in rules
