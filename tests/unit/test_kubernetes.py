"""deploy/kubernetes: the base and the production overlay, rendered (tests/kustomize.py) and
validated against the Kubernetes 1.37 schemas (kubernetes-validate, strict: unknown fields are
errors), then checked for what the schemas cannot say: probes, resources, selectors that select,
ports that exist, worker replicas within their topics' partitions, settings that exist.
The ServiceMonitor is a CRD without a schema in that package: it is checked structurally.
What this cannot check: a real cluster (apply with `kubectl apply -k ... --dry-run=server`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from failsafe.settings import Settings
from tests.kustomize import Resource, pod_spec, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
VERSION = "1.37.0"
VARIANTS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}
# The Kafka worker Deployments and the command each runs (both probed on their metrics port).
WORKERS = {"failsafe-ingest": "ingest", "failsafe-ingest-alarms": "ingest-alarms"}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request: pytest.FixtureRequest) -> list[Resource]:
    return render(VARIANTS[request.param])


def by_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In"
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def test_every_resource_validates_against_the_kubernetes_schemas(rendered: list[Resource]) -> None:
    crds = []
    for resource in rendered:
        if resource["apiVersion"].startswith("monitoring.coreos.com/"):
            crds.append(resource)
            continue
        kubernetes_validate.validate(resource, VERSION, strict=True)
    assert [r["kind"] for r in crds] == ["ServiceMonitor"]
    kinds = {r["kind"] for r in rendered}
    wanted = {"Deployment", "Service", "ConfigMap", "Secret", "Job", "PodDisruptionBudget"}
    assert wanted <= kinds


def test_the_validation_is_live() -> None:
    deployment = by_kind(render(VARIANTS["base"]), "Deployment")["failsafe-serve"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)
    unknown = copy.deepcopy(deployment)
    unknown["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, VERSION, strict=True)


def test_processes_are_probed_limited_and_unprivileged(rendered: list[Resource]) -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    uid = int(re.search(r"^USER (\d+)", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    for resource in rendered:
        spec = pod_spec(resource)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uid
        assert spec.get("automountServiceAccountToken") is not True
        for container in spec["containers"]:
            assert container["image"].partition(":")[2] not in ("", "latest")
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            if resource["kind"] != "Deployment":
                continue
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert container[probe]["httpGet"]["port"] in ports


def test_processes_listen_where_they_are_probed(rendered: list[Resource]) -> None:
    deployments = by_kind(rendered, "Deployment")
    config = by_kind(rendered, "ConfigMap")["failsafe-config"]["data"]
    (serve,) = deployments["failsafe-serve"]["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in serve["ports"]}
    assert serve["args"] == ["serve"]
    assert ports["http"] == int(config["FAILSAFE_SERVER__PORT"])
    assert ports["metrics"] == int(config["FAILSAFE_SERVER__METRICS_PORT"])
    assert config["FAILSAFE_SERVER__HOST"] == "0.0.0.0"
    # The workers listen beyond loopback on the port their probes and the monitor use.
    for name, command in WORKERS.items():
        (worker,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        args = worker["args"]
        assert args[0] == command and args[args.index("--metrics-host") + 1] == "0.0.0.0"
        (port,) = worker["ports"]
        assert port["name"] == "metrics"
        assert int(args[args.index("--metrics-port") + 1]) == port["containerPort"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert worker[probe]["httpGet"]["port"] == "metrics"
    # Two processes of one pod's node never collide: ingest 9108, ingest-alarms 9109.
    ports = [
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        for d in (deployments[name] for name in WORKERS)
    ]
    assert ports == [9108, 9109]


def test_the_alarm_worker_is_deployed_like_ingest(rendered: list[Resource]) -> None:
    deployments = by_kind(rendered, "Deployment")
    alarms = deployments["failsafe-ingest-alarms"]  # so the checks over every pod cover it
    ingest = deployments["failsafe-ingest"]
    alarm_pod = alarms["spec"]["template"]["spec"]
    ingest_pod = ingest["spec"]["template"]["spec"]
    for key in ("securityContext", "serviceAccountName", "automountServiceAccountToken"):
        assert alarm_pod[key] == ingest_pod[key], key
    (container,) = alarm_pod["containers"]
    (ingest_container,) = ingest_pod["containers"]
    assert container["securityContext"] == ingest_container["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["envFrom"] == ingest_container["envFrom"]  # the same settings
    assert container["image"] == ingest_container["image"]  # one image
    assert alarms["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 1
    # Each has its own budget and its own Service for the monitor.
    budgets = by_kind(rendered, "PodDisruptionBudget")
    alarm_pod_labels = alarms["spec"]["template"]["metadata"]["labels"]
    assert [n for n, b in budgets.items() if selects(b["spec"]["selector"], alarm_pod_labels)] == [
        "failsafe-ingest-alarms"
    ]
    services = by_kind(rendered, "Service")
    (service,) = [
        n
        for n, svc in services.items()
        if selects({"matchLabels": svc["spec"]["selector"]}, alarm_pod_labels)
    ]
    assert service == "failsafe-ingest-alarms"


def test_worker_replicas_stay_within_the_partitions(rendered: list[Resource]) -> None:
    deployments = by_kind(rendered, "Deployment")
    for name, topic in (("failsafe-ingest", "events"), ("failsafe-ingest-alarms", "alarms")):
        worker = deployments[name]
        partitions = int(worker["metadata"]["annotations"][f"failsafe.io/{topic}-partitions"])
        assert 1 <= worker["spec"]["replicas"] <= partitions, name


def test_services_budgets_and_monitors_select_the_pods(rendered: list[Resource]) -> None:
    deployments = by_kind(rendered, "Deployment")
    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    for name, deployment in deployments.items():
        assert selects(deployment["spec"]["selector"], pods[name])
    services = by_kind(rendered, "Service")
    for service in services.values():
        selector = {"matchLabels": service["spec"]["selector"]}
        (target,) = [n for n, labels in pods.items() if selects(selector, labels)]
        container_ports = {
            p["name"]
            for c in deployments[target]["spec"]["template"]["spec"]["containers"]
            for p in c["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports
    for pdb in by_kind(rendered, "PodDisruptionBudget").values():
        (target,) = [n for n, labels in pods.items() if selects(pdb["spec"]["selector"], labels)]
        replicas = deployments[target]["spec"]["replicas"]
        if "minAvailable" in pdb["spec"]:
            assert pdb["spec"]["minAvailable"] < replicas  # a node can still be drained
        else:
            assert pdb["spec"]["maxUnavailable"] >= 1

    # The ServiceMonitor (a CRD: no schema here), checked field by field.
    (monitor,) = by_kind(rendered, "ServiceMonitor").values()
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor["spec"]) <= {"selector", "endpoints", "jobLabel", "namespaceSelector"}
    watched = [
        s
        for s in services.values()
        if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    every = {"failsafe-serve", *WORKERS}
    assert {s["metadata"]["name"] for s in watched} == every
    # Prometheus's job label is the services' name label: the alert rules' job names.
    jobs = {s["metadata"]["labels"][monitor["spec"]["jobLabel"]] for s in watched}
    rules = (ROOT / "deploy" / "prometheus" / "rules.yaml").read_text()
    assert jobs == every and 'job=~"failsafe-.*"' in rules
    assert all(re.fullmatch("failsafe-.*", job) for job in jobs)
    for endpoint in monitor["spec"]["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout"}
        assert endpoint["path"] == "/metrics"
        assert re.fullmatch(r"\d+[sm]", endpoint["interval"])
        for service in watched:
            assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_configuration_names_real_settings(rendered: list[Resource]) -> None:
    config = by_kind(rendered, "ConfigMap")
    secrets = by_kind(rendered, "Secret")
    keys = [*config["failsafe-config"]["data"], *secrets["failsafe-secrets"]["stringData"]]
    settings = Settings()
    for key in keys:
        group, _, name = key.removeprefix("FAILSAFE_").lower().partition("__")
        assert group in Settings.model_fields, key
        if name:
            section = getattr(settings, group)
            for part in name.split("__"):
                assert part in type(section).model_fields, key
                section = getattr(section, part)
    assert "FAILSAFE_DATABASE__URL" in secrets["failsafe-secrets"]["stringData"]
    for resource in rendered:
        spec = pod_spec(resource)
        for container in spec["containers"] if spec else []:
            for source in container["envFrom"]:
                ref = source.get("configMapRef") or source["secretRef"]
                assert ref["name"] in config or ref["name"] in secrets


def test_migrations_run_as_a_job(rendered: list[Resource]) -> None:
    (job,) = by_kind(rendered, "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_production_overrides_the_base() -> None:
    base = render(VARIANTS["base"])
    production = render(VARIANTS["production"])
    assert {r["metadata"].get("namespace") for r in production if r["kind"] != "Namespace"} == {
        "failsafe"
    }
    serve = by_kind(production, "Deployment")["failsafe-serve"]
    assert serve["spec"]["replicas"] == 3
    (container,) = serve["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("registry.example.org/")
    assert container["resources"]["requests"]["memory"] == "1Gi"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # merged, not replaced
    ingest = by_kind(production, "Deployment")["failsafe-ingest"]
    assert ingest["metadata"]["annotations"]["failsafe.io/events-partitions"] == "12"
    assert by_kind(base, "Deployment")["failsafe-ingest"]["spec"]["replicas"] == 2
    # The alarm worker: one in the base, a standby in production, spread over nodes.
    alarms = by_kind(production, "Deployment")["failsafe-ingest-alarms"]
    assert alarms["metadata"]["annotations"]["failsafe.io/alarms-partitions"] == "12"
    assert alarms["spec"]["replicas"] == 2
    assert by_kind(base, "Deployment")["failsafe-ingest-alarms"]["spec"]["replicas"] == 1
    pod = alarms["spec"]["template"]["spec"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["labelSelector"]["matchLabels"] == alarms["spec"]["selector"]["matchLabels"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # the base's, kept
