"""deploy/helm/otpgate, through the real helm binary (.ci/run installs it): `helm lint --strict`
and `helm template` with the default values and with other value sets, every rendered document
parsed as YAML and checked; the defaults render what deploy/k8s holds, the configuration each
pod writes loads with the gateway's own loader (cluster mode included), and values that would
give a broken deployment are refused at render time.

The chart carries copies of four files, because Helm's .Files reads only inside the chart
(a symlink out of it is followed with a warning by the loader, and breaks for a packaged
chart or a checkout without symlinks): a test keeps each copy equal to its original."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "otpgate"
K8S = ROOT / "deploy" / "k8s"
HOLD_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="  # base64 of 32 bytes of "k"

COPIES = {
    "files/gateway.toml": K8S / "gateway.toml",
    "files/policy.toml": K8S / "policy.toml",
    "files/otpgate-alerts.yml": ROOT / "deploy" / "prometheus" / "otpgate-alerts.yml",
    "files/otpgate-dashboard.json": ROOT / "deploy" / "grafana" / "otpgate-dashboard.json",
}

Docs = list[dict[str, Any]]


# ---- helm -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    binary = shutil.which("helm")
    if binary is None:
        pytest.fail("helm is not installed: .ci/run installs it (see its Helm step)")
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    yield env


def _helm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    helm = shutil.which("helm", path=env["PATH"])
    assert helm is not None
    return subprocess.run(
        [helm, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _set_args(values: dict[str, Any]) -> list[str]:
    """--set-json per top-level key: the values as given, types kept."""
    return [a for k, v in values.items() for a in ("--set-json", f"{k}={json.dumps(v)}")]


def _values_file(tmp_path: Path, values: dict[str, Any]) -> list[str]:
    path = tmp_path / f"values-{len(list(tmp_path.glob('values-*')))}.yaml"
    path.write_text(yaml.safe_dump(values))
    return ["-f", str(path)]


def render(env: dict[str, str], values: list[str] | None = None, release: str = "otpgate") -> Docs:
    result = _helm(env, "template", release, str(CHART), "--namespace", "otpgate", *(values or []))
    assert result.returncode == 0, result.stderr
    documents = [d for d in yaml.safe_load_all(result.stdout) if d is not None]
    for document in documents:
        assert isinstance(document, dict)
        assert {"apiVersion", "kind", "metadata"} <= document.keys(), document
        assert document["metadata"]["name"], document
    keys = [(d["kind"], d["metadata"]["name"]) for d in documents]
    assert len(keys) == len(set(keys)), keys
    return documents


def refused(env: dict[str, str], values: list[str]) -> str:
    result = _helm(env, "template", "otpgate", str(CHART), *values)
    assert result.returncode != 0, "helm template accepted values it should refuse"
    return result.stderr


def one(documents: Docs, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d
        for d in documents
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, (kind, name, [d["metadata"]["name"] for d in found])
    return found[0]


def _k8s(path: str) -> Docs:
    return [d for d in yaml.safe_load_all((K8S / path).read_text()) if d is not None]


def _pod(documents: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = one(documents, "StatefulSet")["spec"]["template"]["spec"]
    return spec


def _container(documents: Docs) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _pod(documents)["containers"]
    assert len(containers) == 1
    return containers[0]


# ---- the chart's own files ------------------------------------------------------------------


@pytest.mark.parametrize("copy_name", sorted(COPIES))
def test_the_chart_copies_equal_their_originals(copy_name: str) -> None:
    original = COPIES[copy_name]
    assert (CHART / copy_name).read_bytes() == original.read_bytes(), (
        f"cp {original.relative_to(ROOT)} {(CHART / copy_name).relative_to(ROOT)}"
    )


def test_chart_app_version_is_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["apiVersion"] == "v2" and chart["name"] == "otpgate"
    assert chart["appVersion"] == project["version"]


def test_every_value_has_a_schema_entry_and_the_schema_closes_every_object() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(value: Any, node: dict[str, Any], where: str) -> None:
        if isinstance(value, dict) and "properties" in node:
            assert node.get("additionalProperties") is False, f"{where}: open object"
            for key, item in value.items():
                assert key in node["properties"], f"{where}.{key}: not in values.schema.json"
                walk(item, node["properties"][key], f"{where}.{key}")

    walk(values, schema, "values")


# ---- lint -----------------------------------------------------------------------------------

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "cluster-and-monitoring": {
        "replicaCount": 3,
        "metrics": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
        "grafanaDashboard": {"enabled": True},
    },
    "own-secret-and-configmaps": {
        "secret": {"create": True, "stringData": {"operator-key": "k", "holds-key": HOLD_KEY}},
        "config": {"existingConfigMap": "my-config"},
        "policy": {"existingConfigMap": "my-policy"},
        "persistence": {"enabled": False},
        "podDisruptionBudget": {"enabled": False},
    },
}


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_helm_lint_strict(helm_env: dict[str, str], name: str) -> None:
    result = _helm(helm_env, "lint", "--strict", str(CHART), *_set_args(VALUE_SETS[name]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


# ---- the defaults render deploy/k8s ---------------------------------------------------------


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def test_defaults_render_the_kustomize_objects(helm_env: dict[str, str]) -> None:
    documents = render(helm_env)
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in documents)
    assert kinds == sorted(
        [
            ("ConfigMap", "otpgate-config"),
            ("ConfigMap", "otpgate-policy"),
            ("PodDisruptionBudget", "otpgate"),
            ("Service", "otpgate-nodes"),
            ("Service", "otpgate-operator"),
            ("Service", "otpgate-smpp"),
            ("Service", "otpgate-tenant"),
            ("StatefulSet", "otpgate"),
        ]
    ), "the names of deploy/k8s, and no Secret: by default it is created out of band"
    # The configuration and the policy are deploy/k8s's files, byte for byte.
    config = one(documents, "ConfigMap", "otpgate-config")["data"]
    assert config == {"gateway.toml": (K8S / "gateway.toml").read_text()}
    policy = one(documents, "ConfigMap", "otpgate-policy")["data"]
    assert policy == {"policy.toml": (K8S / "policy.toml").read_text()}


def test_defaults_render_the_same_pods_as_deploy_k8s(helm_env: dict[str, str]) -> None:
    rendered = one(render(helm_env), "StatefulSet")
    (original,) = _k8s("statefulset.yaml")
    for key in ("serviceName", "replicas", "podManagementPolicy", "updateStrategy"):
        assert rendered["spec"][key] == original["spec"][key], key
    # The pod spec is deploy/k8s's, but for the chart's pull policy.
    pod = copy.deepcopy(rendered["spec"]["template"]["spec"])
    for container in pod["containers"] + pod["initContainers"]:
        assert container.pop("imagePullPolicy") == "IfNotPresent"
    assert pod == original["spec"]["template"]["spec"]
    # Its labels select the pods, and keep deploy/k8s's.
    labels = rendered["spec"]["template"]["metadata"]["labels"]
    assert rendered["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert original["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # A change of gateway.toml rolls the pods.
    annotations = rendered["spec"]["template"]["metadata"]["annotations"]
    assert set(annotations) == {"checksum/config"}
    (claim,) = rendered["spec"]["volumeClaimTemplates"]
    assert claim["spec"] == original["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["metadata"]["name"] == "data"


def test_defaults_render_the_same_services_and_budget(helm_env: dict[str, str]) -> None:
    documents = render(helm_env)
    labels = one(documents, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    for original in _k8s("services.yaml"):
        name = original["metadata"]["name"]
        service = one(documents, "Service", name)
        assert _without(service["spec"], "selector") == _without(original["spec"], "selector")
        assert service["spec"]["selector"].items() <= labels.items(), name
        assert original["metadata"]["labels"].items() <= service["metadata"]["labels"].items()
    (budget,) = _k8s("pdb.yaml")
    rendered = one(documents, "PodDisruptionBudget")
    assert rendered["spec"]["maxUnavailable"] == budget["spec"]["maxUnavailable"]
    assert rendered["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_defaults_ports_probes_mounts_and_security(helm_env: dict[str, str]) -> None:
    documents = render(helm_env)
    container = _container(documents)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"smpp": 2775, "operator-api": 8080, "tenant-api": 8081}
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        assert container[probe]["httpGet"] == {"path": path, "port": "operator-api"}, probe
    assert (
        container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"]
        == 600
    ), "10 minutes for the risk index rebuild"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {
        "/var/lib/otpgate",
        "/etc/otpgate/config",
        "/etc/otpgate/policy",
        "/etc/otpgate/secrets",
        "/tmp",
    }
    assert all("subPath" not in m for m in mounts.values()), "a policy edit must reach the pod"
    assert mounts["/var/lib/otpgate"].get("readOnly") is not True
    volumes = {v["name"]: v for v in _pod(documents)["volumes"]}
    assert volumes[mounts["/etc/otpgate/secrets"]["name"]]["secret"]["secretName"] == (
        "otpgate-secrets"
    )
    # Every Service's target port is a port of the container.
    for service in (d for d in documents if d["kind"] == "Service"):
        for port in service["spec"]["ports"]:
            assert ports[port["targetPort"]] == port["port"], service["metadata"]["name"]
    pod = _pod(documents)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["automountServiceAccountToken"] is False
    for each in pod["containers"] + pod["initContainers"]:
        assert each["securityContext"]["readOnlyRootFilesystem"] is True
        assert each["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert each["image"] == "otpgate:0.1.0"


# ---- the configuration each pod writes ------------------------------------------------------


def _node_config(
    tmp_path: Path, documents: Docs, pod_name: str, secrets: dict[str, str] | None = None
) -> Any:
    """Run the rendered init container for a pod on the rendered ConfigMap, then load the
    configuration it wrote, with the Secret's files as the pod would see them."""
    (init,) = _pod(documents)["initContainers"]
    root = tmp_path / pod_name
    for mount in init["volumeMounts"]:
        (root / mount["mountPath"].lstrip("/")).mkdir(parents=True)
    (config_map,) = [
        d for d in documents if d["kind"] == "ConfigMap" and "gateway.toml" in d.get("data", {})
    ]
    (root / "etc/otpgate/template/gateway.toml").write_text(config_map["data"]["gateway.toml"])
    env = {"PATH": "/usr/bin:/bin"}
    for variable in init["env"]:
        if variable["name"] == "POD_NAME":
            assert variable["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
            env["POD_NAME"] = pod_name
        else:
            env[variable["name"]] = variable["value"].replace(
                "/etc/otpgate/", f"{root}/etc/otpgate/"
            )
    assert init["command"][:2] == ["sh", "-c"]
    script = init["command"][2].replace("/etc/otpgate/", f"{root}/etc/otpgate/")
    subprocess.run(["sh", "-c", script], env=env, check=True, timeout=30)
    written = root / "etc/otpgate/config/gateway.toml"
    text = written.read_text().replace('"/etc/otpgate/secrets/', f'"{root}/etc/otpgate/secrets/')
    written.write_text(text)
    folder = root / "etc/otpgate/secrets"
    folder.mkdir(parents=True)
    for name in ("holds-key", *(k for k in _file_keys(tomllib.loads(text)) if k != "holds-key")):
        (folder / name).write_text(
            (secrets or {}).get(name, HOLD_KEY if name == "holds-key" else "demo1234")
        )
    return load_config(written)


def _file_keys(table: Any) -> list[str]:
    if isinstance(table, list):
        return [name for item in table for name in _file_keys(item)]
    if not isinstance(table, dict):
        return []
    names = [
        Path(v).name for k, v in table.items() if k.endswith("_file") and "/secrets/" in str(v)
    ]
    return names + [n for value in table.values() for n in _file_keys(value)]


def test_one_node_config_loads_with_the_pod_name_as_node_id(
    helm_env: dict[str, str], tmp_path: Path
) -> None:
    documents = render(helm_env)
    config = _node_config(tmp_path, documents, "otpgate-0")
    assert config.node_id == "otpgate-0"
    assert config.signals.mqtt is not None and config.signals.mqtt.client_id == "otpgate-0"
    assert config.cluster.nodes == ()
    assert config.data_dir == Path("/var/lib/otpgate")
    ports = {p["name"]: p["containerPort"] for p in _container(documents)["ports"]}
    assert ports == {
        "smpp": config.smpp.port,
        "operator-api": config.api.port,
        "tenant-api": config.api.tenant_port,
    }
    assert config.policy_file == Path("/etc/otpgate/policy/policy.toml")


def test_cluster_mode_names_every_pod_and_reads_the_shared_secret(
    helm_env: dict[str, str], tmp_path: Path
) -> None:
    documents = render(helm_env, _set_args({"replicaCount": 3}), release="edge")
    statefulset = one(documents, "StatefulSet", "edge-otpgate")
    assert statefulset["spec"]["replicas"] == 3
    pods = [f"edge-otpgate-{i}" for i in range(3)]
    for pod in pods:
        config = _node_config(tmp_path, documents, pod, {"cluster-secret": "s3cret-for-all"})
        assert config.node_id == pod
        assert config.cluster.nodes == tuple(pods)
        assert config.cluster.secret == "s3cret-for-all"
        assert config.signals.mqtt is not None and config.signals.mqtt.client_id == pod
    # Scaling changes the pod template, so the pods restart with the new node list.
    two = one(render(helm_env, _set_args({"replicaCount": 2}), release="edge"), "StatefulSet")
    assert two["spec"]["template"] != statefulset["spec"]["template"]


# ---- other value sets -----------------------------------------------------------------------


def test_a_value_set_reaches_every_object(helm_env: dict[str, str], tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "image": {"repository": "registry.example/otpgate", "tag": "9.9.9", "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "regcred"}],
        "resources": {
            "requests": {"cpu": "2", "memory": "4Gi"},
            "limits": {"cpu": "4", "memory": "6Gi"},
        },
        "persistence": {"storageClass": "fast-local", "size": "100Gi"},
        "service": {
            "smpp": {
                "type": "LoadBalancer",
                "port": 12775,
                "externalTrafficPolicy": "Local",
                "loadBalancerSourceRanges": ["192.0.2.0/24"],
            },
            "tenant": {"type": "ClusterIP", "port": 443},
        },
        "secret": {
            "create": True,
            "stringData": {"operator-key": "op", "holds-key": HOLD_KEY, "key-pepper": "p"},
        },
        "policy": {"policyToml": '[policy]\nname = "mine"\n'},
        "podAnnotations": {"example.com/team": "sms"},
        "nodeSelector": {"disktype": "ssd"},
    }
    documents = render(helm_env, _values_file(tmp_path, values), release="prod")
    statefulset = one(documents, "StatefulSet", "prod-otpgate")
    pod = statefulset["spec"]["template"]["spec"]
    for each in pod["containers"] + pod["initContainers"]:
        assert each["image"] == "registry.example/otpgate:9.9.9"
        assert each["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["nodeSelector"] == {"disktype": "ssd"}
    assert _container(documents)["resources"] == values["resources"]
    assert statefulset["spec"]["template"]["metadata"]["annotations"]["example.com/team"] == "sms"
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "fast-local"
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    smpp = one(documents, "Service", "prod-otpgate-smpp")["spec"]
    assert smpp["type"] == "LoadBalancer" and smpp["externalTrafficPolicy"] == "Local"
    assert smpp["loadBalancerSourceRanges"] == ["192.0.2.0/24"]
    assert smpp["ports"] == [
        {"name": "smpp", "port": 12775, "targetPort": "smpp", "protocol": "TCP"}
    ]
    tenant = one(documents, "Service", "prod-otpgate-tenant")["spec"]
    assert tenant["ports"] == [{"name": "tenant-api", "port": 443, "targetPort": "tenant-api"}]
    secret = one(documents, "Secret", "prod-otpgate-secrets")
    assert secret["stringData"] == values["secret"]["stringData"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["secrets"]["secret"]["secretName"] == "prod-otpgate-secrets"
    assert one(documents, "ConfigMap", "prod-otpgate-policy")["data"] == {
        "policy.toml": values["policy"]["policyToml"]
    }
    assert volumes["policy"]["configMap"]["name"] == "prod-otpgate-policy"


def test_existing_config_maps_and_no_persistence(helm_env: dict[str, str]) -> None:
    documents = render(helm_env, _set_args(VALUE_SETS["own-secret-and-configmaps"]))
    assert [d for d in documents if d["kind"] == "ConfigMap"] == []
    assert [d for d in documents if d["kind"] == "PodDisruptionBudget"] == []
    statefulset = one(documents, "StatefulSet")
    volumes = {v["name"]: v for v in _pod(documents)["volumes"]}
    assert volumes["config-template"]["configMap"]["name"] == "my-config"
    assert volumes["policy"]["configMap"]["name"] == "my-policy"
    # No checksum of a ConfigMap the chart does not render.
    annotations = statefulset["spec"]["template"]["metadata"].get("annotations") or {}
    assert "checksum/config" not in annotations
    # Without persistence the data volume is an emptyDir, and no claim is made.
    assert "volumeClaimTemplates" not in statefulset["spec"]
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


def test_gateway_toml_from_values_rolls_the_pods(helm_env: dict[str, str], tmp_path: Path) -> None:
    mine = (K8S / "gateway.toml").read_text().replace('level = "info"', 'level = "debug"')
    documents = render(helm_env, _set_args({"config": {"gatewayToml": mine}}))
    assert one(documents, "ConfigMap", "otpgate-config")["data"] == {"gateway.toml": mine}
    default = one(render(helm_env), "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    changed = one(documents, "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert changed["checksum/config"] != default["checksum/config"]
    assert _node_config(tmp_path, documents, "otpgate-0").log_level == "debug"


def test_monitoring_objects_match_deploy_k8s_and_the_dashboard(helm_env: dict[str, str]) -> None:
    documents = render(helm_env, _set_args(VALUE_SETS["cluster-and-monitoring"]))
    originals = {d["kind"]: d for d in _k8s("monitoring.yaml")}
    rule = one(documents, "PrometheusRule", "otpgate")
    assert rule["spec"] == yaml.safe_load(COPIES["files/otpgate-alerts.yml"].read_text())
    assert rule["spec"] == originals["PrometheusRule"]["spec"]
    monitor = one(documents, "ServiceMonitor", "otpgate")
    assert monitor["spec"]["endpoints"] == originals["ServiceMonitor"]["spec"]["endpoints"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    selected = [
        d["metadata"]["name"]
        for d in documents
        if d["kind"] == "Service" and wanted.items() <= d["metadata"]["labels"].items()
    ]
    assert selected == ["otpgate-nodes"], "one endpoint per node, through the headless Service"
    dashboard = one(documents, "ConfigMap", "otpgate-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["otpgate-dashboard.json"]) == json.loads(
        COPIES["files/otpgate-dashboard.json"].read_text()
    )


# ---- refused values -------------------------------------------------------------------------


def test_the_schema_refuses_unknown_keys_wrong_types_and_bad_ports(
    helm_env: dict[str, str],
) -> None:
    assert "replicas" in refused(helm_env, _set_args({"replicas": 2}))
    assert "resource" in refused(helm_env, _set_args({"resource": {}}))
    assert "/containerPorts/smpp" in refused(helm_env, _set_args({"containerPorts": {"smpp": 0}}))
    assert "/service/tenant/port" in refused(
        helm_env, _set_args({"service": {"tenant": {"port": "http"}}})
    )
    assert "/persistence/size" in refused(helm_env, _set_args({"persistence": {"size": "lots"}}))
    assert "/replicaCount" in refused(helm_env, _set_args({"replicaCount": "two"}))


def test_values_that_give_nodes_that_cannot_start_are_refused(helm_env: dict[str, str]) -> None:
    text = (K8S / "gateway.toml").read_text()
    no_broker = text[: text.index("[signals.mqtt]")] + text[text.index("[logging]") :]
    stderr = refused(helm_env, _set_args({"replicaCount": 2, "config": {"gatewayToml": no_broker}}))
    assert "needs [signals.mqtt]" in stderr
    with_cluster = text + '\n[cluster]\nnodes = ["a"]\n'
    stderr = refused(
        helm_env, _set_args({"replicaCount": 2, "config": {"gatewayToml": with_cluster}})
    )
    assert "has a [cluster] table" in stderr
    assert "stringData is empty" in refused(helm_env, _set_args({"secret": {"create": True}}))
    stderr = refused(
        helm_env,
        _set_args({"replicaCount": 2, "secret": {"create": True, "stringData": {"a": "b"}}}),
    )
    assert "cluster-secret" in stderr
    # One node needs no broker for commands: the same file renders.
    render(helm_env, _set_args({"config": {"gatewayToml": no_broker}}))
