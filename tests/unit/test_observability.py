"""deploy/prometheus and deploy/grafana against the code: the rules are valid and fire as meant
(promtool), the Prometheus config loads them, and every metric the rules and the dashboard
name is one the code registers (a renamed metric would silently empty a panel or mute an alert).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from failsafe.alarms import metrics as alarm_metrics
from failsafe.ingest import metrics as ingest_metrics
from failsafe.kit import metrics as serve_metrics

# Importing them registers every metric: serve's, the ingest pipeline's and the alarm worker's.
MODULES = (serve_metrics, ingest_metrics, alarm_metrics)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
METRIC = re.compile(r"\bfailsafe_[a-z0-9_]+\b")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "scripts/promtool.sh installs Debian's prometheus (promtool)"
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def registered() -> dict[str, set[str]]:
    """Series name -> its label names, for every failsafe metric in the default registry."""
    series: dict[str, set[str]] = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("failsafe_"):
            continue
        labels = {name for sample in family.samples for name in sample.labels}  # Info's too
        # The declared label names (children may not exist yet, so not from the samples).
        for collector, names in REGISTRY._collector_to_names.items():
            if family.name in names or any(n.startswith(family.name) for n in names):
                labels |= set(getattr(collector, "_labelnames", ()))
        for suffix in SUFFIXES[family.type]:
            series[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return series


def rule_expressions() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS / "rules.yaml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "failsafe.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_promtool_checks_the_rules_and_the_config() -> None:
    checked = promtool("check", "rules", "rules.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_rules_fire_on_what_they_are_about() -> None:
    result = promtool("test", "rules", "rules_test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_would_reject_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: rate(foo[5m]\n")
    assert promtool("check", "rules", str(broken), cwd=tmp_path).returncode != 0


def test_the_alerts_asked_for_exist() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules.yaml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    wanted = {
        "FailsafeConsumerLagGrowing": "failsafe_consumer_lag",
        "FailsafeDeadLetterRate": "failsafe_events_invalid_total",
        "FailsafeNotReady": "failsafe_ready",
        "FailsafeWebsocketDrops": "failsafe_websocket_slow_clients_dropped_total",
        "FailsafeEventToAlertSlow": "failsafe_event_to_alert_seconds_bucket",
        "FailsafeAlarmsRejected": "failsafe_alarms_invalid_total",
    }
    for name, metric in wanted.items():
        assert metric in alerts[name]["expr"], name
        assert alerts[name]["labels"]["severity"] in {"warning", "critical"}


def test_every_metric_in_the_rules_and_dashboard_is_registered() -> None:
    series = registered()
    expressions = rule_expressions() + dashboard_expressions()
    named = {m for expr in expressions for m in METRIC.findall(expr)}
    assert len(named) >= 15
    assert named <= set(series), sorted(named - set(series))
    # Labels the expressions group or filter by are labels those metrics have.
    for expr in expressions:
        for metric, selector in re.findall(r"(failsafe_[a-z0-9_]+)\{([^}]*)\}", expr):
            for label in re.findall(r"(\w+)\s*=~?", selector):
                assert label in series[metric], (metric, label)
        for grouping in re.findall(r"by \(([^)]*)\)", expr):
            used = {m for m in METRIC.findall(expr)}
            for label in (x.strip() for x in grouping.split(",")):
                # Target labels Prometheus adds, or a label one of the metrics has.
                assert label in {"job", "instance"} or any(label in series[m] for m in used), (
                    expr,
                    label,
                )


def test_the_dashboard_is_importable() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "failsafe.json").read_text())
    assert dashboard["uid"] and dashboard["title"] == "failsafe"
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for topic in ("latency", "lag", "websocket", "http", "authentication", "ready", "alarm"):
        assert topic in titles, topic
