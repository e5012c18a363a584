"""deploy/ files can't be run here (no Docker engine): check what can be checked."""

from __future__ import annotations

from pathlib import Path

import yaml

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
    assert "USER failsafe" in text
    assert "uv.lock" in text  # the image installs the locked dependencies
