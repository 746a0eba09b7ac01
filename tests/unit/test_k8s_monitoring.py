"""deploy/k8s/monitoring.yaml stays in step with what it wraps: the PrometheusRule holds the
alert rules of deploy/prometheus/otpgate-alerts.yml exactly, and the ServiceMonitor selects
the headless Service of the nodes on a port that Service has, with the operator key of the
Secret the StatefulSet mounts."""

from __future__ import annotations

from pathlib import Path

import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
RULES = K8S.parent / "prometheus" / "otpgate-alerts.yml"


def _objects(path: Path) -> dict[str, dict]:
    return {o["kind"]: o for o in yaml.safe_load_all(path.read_text()) if o}


def test_the_prometheus_rule_holds_the_alert_rules_exactly() -> None:
    rule = _objects(K8S / "monitoring.yaml")["PrometheusRule"]
    assert rule["spec"] == yaml.safe_load(RULES.read_text())


def test_the_service_monitor_scrapes_each_node_with_the_operator_key() -> None:
    monitor = _objects(K8S / "monitoring.yaml")["ServiceMonitor"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    services = [
        o
        for o in yaml.safe_load_all((K8S / "services.yaml").read_text())
        if o and o["kind"] == "Service"
    ]
    selected = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
    assert [s["metadata"]["name"] for s in selected] == ["otpgate-nodes"]
    assert selected[0]["spec"]["clusterIP"] == "None"  # one endpoint per node
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in selected[0]["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    secret = endpoint["authorization"]["credentials"]
    assert secret["name"] in (K8S / "statefulset.yaml").read_text()
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    assert secret["key"] in example["stringData"]
