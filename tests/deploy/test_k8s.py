"""deploy/k8s/: valid against the Kubernetes schemas (kubernetes-validate, strict), settings that
exist, probes on the real health routes, a PodDisruptionBudget per Deployment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wirewatch.settings import load_settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"  # a version current clusters run; the schemas ship in the package


def resources() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        out += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def of_kind(kind: str) -> list[dict]:
    return [doc for _, doc in resources() if doc["kind"] == kind]


@pytest.mark.parametrize("name, doc", resources(), ids=lambda v: v if isinstance(v, str) else "")
def test_manifest_is_valid_kubernetes(name, doc):
    import kubernetes_validate

    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {e.message} at {'/'.join(map(str, e.path))}")


def test_every_role_and_kind_is_there():
    kinds = {doc["kind"] for _, doc in resources()}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} <= kinds
    roles = {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] for d in of_kind("Deployment")}
    assert roles == {"intake", "worker"}


def test_the_settings_they_set_are_valid(monkeypatch):
    (config,) = of_kind("ConfigMap")
    (secret,) = of_kind("Secret")
    for deployment in of_kind("Deployment"):
        env = {**config["data"], **secret["stringData"]}
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env.update({e["name"]: e["value"] if "value" in e else _downward(e) for e in container.get("env", [])})
        env["WIREWATCH_WEB_HOST"] = "0.0.0.0"  # what the image sets
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()
        assert settings.intake.token is not None and settings.log_format == "json"
        assert settings.kafka.instance_id(settings.web_port, embedded=False) == _downward(
            {"valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        )
        for key in env:
            monkeypatch.delenv(key)


def _downward(var: dict) -> str:
    """What the downward API gives a pod for `var` (valueFrom a field of the pod)."""
    assert var["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", var
    return "wirewatch-worker-7d9f8c6b5-x2x4q"


def test_every_pod_joins_its_consumer_group_under_an_id_of_its_own():
    # Static membership (KIP-345): two members under one group.instance.id fence each other, so a
    # literal id shared by a Deployment's replicas (or by the old and new pods of a rollout) would
    # keep one of them out. Each pod takes its own name; the shared config sets none.
    (config,) = of_kind("ConfigMap")
    (secret,) = of_kind("Secret")
    assert "WIREWATCH_KAFKA__GROUP_INSTANCE_ID" not in {**config["data"], **secret["stringData"]}
    for deployment in of_kind("Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        (var,) = [e for e in container.get("env", []) if e["name"] == "WIREWATCH_KAFKA__GROUP_INSTANCE_ID"]
        assert "value" not in var and var["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}, var


def test_probes_use_the_health_routes_and_stop_in_time():
    for deployment in of_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert pod["terminationGracePeriodSeconds"] > 25  # the worker's own stop deadline (boot.SHUTDOWN_GRACE)


def test_every_deployment_has_a_disruption_budget_and_the_service_reaches_intake():
    budgets = [b["spec"]["selector"]["matchLabels"] for b in of_kind("PodDisruptionBudget")]
    for deployment in of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(sel.items() <= labels.items() for sel in budgets), deployment["metadata"]["name"]
    (service,) = of_kind("Service")
    reached = [
        d
        for d in of_kind("Deployment")
        if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert [d["metadata"]["name"] for d in reached] == ["wirewatch-intake"]
