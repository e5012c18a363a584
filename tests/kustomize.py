"""A small renderer of the kustomizations in deploy/kubernetes, for tests (no kubectl here).

It does what those files use and refuses anything else, so a kustomization that grows a feature
this does not know fails the test instead of being rendered wrong: `resources` (files and
directories with a kustomization.yaml), `namespace`, `labels` (metadata labels only, as
kustomize's `labels` without `includeSelectors`), `images`, `replicas` and `patches` (strategic
merge patches by kind and name: maps merged, lists of named items merged by `name`, other lists
replaced). `kubectl kustomize deploy/kubernetes/overlays/production` renders the same objects.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

KNOWN = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
Resource = dict[str, Any]


def render(directory: Path) -> list[Resource]:
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - KNOWN
    if unknown:
        raise ValueError(
            f"{directory}: kustomization fields this renderer does not know: {unknown}"
        )
    resources: list[Resource] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources += render(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch_spec in spec.get("patches", []):
        if set(patch_spec) != {"path"}:
            raise ValueError(f"only file patches are supported: {patch_spec}")
        patch = yaml.safe_load((directory / patch_spec["path"]).read_text())
        target = _find(resources, patch["kind"], patch["metadata"]["name"])
        merged = merge(target, patch)
        target.clear()
        target.update(merged)
    for item in spec.get("replicas", []):
        _find(resources, "Deployment", item["name"])["spec"]["replicas"] = item["count"]
    for image in spec.get("images", []):
        for resource in resources:
            for container in _containers(resource):
                name = container["image"].split(":", 1)[0]
                if name == image["name"]:
                    new = image.get("newName", name)
                    tag = image.get("newTag", container["image"].partition(":")[2] or "latest")
                    container["image"] = f"{new}:{tag}"
    for label_set in spec.get("labels", []):
        if set(label_set) != {"pairs"}:
            raise ValueError(f"only plain label pairs are supported: {label_set}")
        for resource in resources:
            resource["metadata"].setdefault("labels", {}).update(label_set["pairs"])
    if "namespace" in spec:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = spec["namespace"]
    return resources


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge, as far as these manifests need it."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(x, dict) and "name" in x for x in [*base, *patch])
    ):
        out_list = copy.deepcopy(base)
        for item in patch:
            same = [i for i, x in enumerate(out_list) if x["name"] == item["name"]]
            if same:
                out_list[same[0]] = merge(out_list[same[0]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(patch)


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    if len(found) != 1:
        raise ValueError(f"{kind}/{name}: {len(found)} resources match")
    return found[0]


def pod_spec(resource: Resource) -> dict[str, Any] | None:
    if resource["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        spec: dict[str, Any] = resource["spec"]["template"]["spec"]
        return spec
    return None


def _containers(resource: Resource) -> list[dict[str, Any]]:
    spec = pod_spec(resource)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec["containers"]]
