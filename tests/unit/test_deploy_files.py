"""The deployment files: they parse, they say what the operations guide promises, and the
configurations they carry load with the gateway's own loader."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from gateway.config import load_config
from gateway.traffic.message_ids import node_number

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the YAML deploy files")

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "otpgate.service"
RECEIVER = DEPLOY / "webhook-receiver" / "receiver.py"
DEMO_BROKER = DEPLOY / "compose" / "mosquitto-demo.sh"
HOLD_KEY = base64.b64encode(b"k" * 32).decode()


def _yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# ---- every YAML file parses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [COMPOSE, *sorted(K8S.glob("*.yaml"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_yaml_parses(path: Path) -> None:
    documents = _yaml_documents(path)
    assert documents and all(isinstance(d, dict) for d in documents)


# ---- Dockerfile -----------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, out = "", []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not joined and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            joined += stripped[:-1] + " "
            continue
        joined += stripped
        keyword, _, rest = joined.partition(" ")
        out.append((keyword.upper(), rest.strip()))
        joined = ""
    return out


def test_dockerfile_builds_in_stages_and_runs_as_a_fixed_non_root_user() -> None:
    instructions = _instructions(DOCKERFILE)
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2, "multi-stage: build the venv, copy it into a clean runtime"
    args = dict(a.partition("=")[::2] for op, a in instructions if op == "ARG" and "=" in a)
    assert args.get("PYTHON_IMAGE", "").startswith("python:3.11-slim")
    users = [a for op, a in instructions if op == "USER"]
    assert users, "the image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user.isdigit(), "a fixed numeric uid (runAsUser)"
    assert f"--uid {user}" in DOCKERFILE.read_text()


def test_dockerfile_healthcheck_volume_ports_and_entrypoint() -> None:
    instructions = _instructions(DOCKERFILE)
    checks = [a for op, a in instructions if op == "HEALTHCHECK"]
    assert len(checks) == 1 and "CMD" in checks[0] and "python" in checks[0]
    assert "OTPGATE_HEALTHCHECK_URL" in checks[0]
    env = " ".join(a for op, a in instructions if op == "ENV")
    assert "OTPGATE_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz" in env
    assert ("VOLUME", '["/var/lib/otpgate"]') in instructions
    exposed = {p for op, a in instructions if op == "EXPOSE" for p in a.split()}
    assert exposed == {"2775", "8080", "8081"}
    assert json.loads(next(a for op, a in instructions if op == "ENTRYPOINT")) == ["otpgate"]
    assert json.loads(next(a for op, a in instructions if op == "CMD")) == [
        "run",
        "--config",
        "/etc/otpgate/gateway.toml",
    ]


def test_dockerfile_bakes_in_no_secret() -> None:
    for op, args in _instructions(DOCKERFILE):
        if op in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(KEY|PASSWORD|SECRET|PEPPER|TOKEN)\w*=", args, re.I), args


def test_dockerfile_copies_only_what_the_dockerignore_lets_through() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert "*" in (ROOT / ".dockerignore").read_text().splitlines(), "an allow list"
    for op, args in _instructions(DOCKERFILE):
        if op == "COPY" and "--from=" not in args:
            *sources, _target = args.split()
            for source in sources:
                assert source in allowed, f"COPY {source}: not let through by .dockerignore"
                assert (ROOT / source).exists(), f"COPY {source}: no such path"


# ---- systemd --------------------------------------------------------------------------------


def _unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_systemd_unit_runs_hardened_as_otpgate_with_reload_and_restart() -> None:
    unit = _unit_settings(UNIT)
    assert unit["Type"] in (["exec"], ["simple"])
    assert unit["User"] == ["otpgate"]
    assert unit["StateDirectory"] == ["otpgate"]
    assert unit["ReadWritePaths"] == ["/var/lib/otpgate"]
    assert unit["EnvironmentFile"] == ["/etc/otpgate/otpgate.env"]
    assert unit["ExecStart"][0].endswith("otpgate run --config /etc/otpgate/gateway.toml")
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["CapabilityBoundingSet"] == [""]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert unit[key] == [value], key
    assert int(unit["LimitNOFILE"][0]) >= 65536


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    # verify insists that ExecStart exists; point it at this interpreter, nothing else changes.
    text = UNIT.read_text()
    assert text.count("/opt/otpgate/bin/otpgate run") == 1
    copy = tmp_path / "otpgate.service"
    copy.write_text(
        text.replace("/opt/otpgate/bin/otpgate run", f"{sys.executable} -m gateway.cli run")
    )
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "otpgate.service" not in result.stderr, result.stderr


# ---- compose --------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _demo_value(text: str) -> str:
    """A compose value with ${NAME:-default} interpolated to its default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def test_compose_runs_gateway_broker_simulator_and_receiver() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) >= {"gateway", "mosquitto", "smsc-sim", "webhook-receiver"}
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["gateway"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert services["smsc-sim"]["command"][0] == "smsc-sim"
    assert services["gateway"]["command"] == ["run", "--config", "/etc/otpgate/gateway.toml"]
    for name in ("gateway", "smsc-sim", "webhook-receiver"):
        assert services[name]["image"] == services["gateway"]["image"], name
        assert services[name]["read_only"] is True, name


def test_compose_paths_exist() -> None:
    compose = _compose()
    assert (COMPOSE.parent / compose["services"]["gateway"]["build"]["context"]).is_dir()
    for config in compose["configs"].values():
        assert (COMPOSE.parent / config["file"]).is_file(), config
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).is_file(), volume


def test_compose_broker_uses_the_shipped_conf_and_acl() -> None:
    mosquitto = _compose()["services"]["mosquitto"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in mosquitto["volumes"]}
    assert mounts["./mosquitto.conf"] == "/otpgate/mosquitto.conf"
    assert mounts["./mosquitto.acl"] == "/otpgate/mosquitto.acl"
    assert mosquitto["entrypoint"][-1] == mounts["./compose/mosquitto-demo.sh"]


def _compose_gateway_config(monkeypatch: pytest.MonkeyPatch) -> Any:
    compose = _compose()
    for name, value in compose["services"]["gateway"]["environment"].items():
        monkeypatch.setenv(name, _demo_value(value))
    config = compose["configs"][compose["services"]["gateway"]["configs"][0]["source"]]
    return load_config(COMPOSE.parent / config["file"])


def test_compose_gateway_config_loads_and_points_at_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = _compose()
    config = _compose_gateway_config(monkeypatch)
    assert config.data_dir == Path("/var/lib/otpgate")
    gateway = compose["services"]["gateway"]
    assert "gateway-data:/var/lib/otpgate" in gateway["volumes"]
    # Published ports are the ones the config listens on, on all container addresses.
    published = {p.split(":")[-1] for p in gateway["ports"]}
    assert published == {str(config.smpp.port), str(config.api.port), str(config.api.tenant_port)}
    assert config.smpp.host == config.api.host == config.api.tenant_host == "0.0.0.0"
    # The upstream is the simulator, with the password the simulator accepts.
    route = config.smpp.routes[0]
    assert route.hosts == (("smsc-sim", 2775),)
    command = compose["services"]["smsc-sim"]["command"]
    account = _demo_value(command[command.index("--account") + 1])
    assert account == f"{route.system_id}:{route.password}"
    # The broker service, as the gateway's MQTT user.
    assert config.signals.mqtt is not None
    assert config.signals.mqtt.host == "mosquitto" and config.signals.mqtt.port == 1883
    assert config.signals.mqtt.username == "otpgate"
    broker_env = compose["services"]["mosquitto"]["environment"]
    assert _demo_value(broker_env["OTPGATE_MQTT_PASSWORD"]) == config.signals.mqtt.password
    # Webhooks may reach the receiver: by name over http, inside the compose subnet.
    assert "webhook-receiver" in config.webhooks.allow_http_hosts
    subnet = compose["networks"]["otpgate"]["ipam"]["config"][0]["subnet"]
    assert [str(n) for n in config.webhooks.allow_networks] == [subnet]
    # An SMPP 3.4 password has at most 8 characters.
    assert all(len(_demo_value(v)) <= 8 for k, v in gateway["environment"].items() if "ESME" in k)


def test_compose_demo_broker_keeps_every_durability_setting(tmp_path: Path) -> None:
    shell = shutil.which("sh")
    if shell is None:
        pytest.skip("no POSIX sh")
    result = subprocess.run(
        [shell, str(DEMO_BROKER), "--print-config"],
        env={"PATH": "/usr/bin:/bin", "SHIPPED_CONF": str(DEPLOY / "mosquitto.conf")},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    rendered = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    for setting in (
        "allow_anonymous false",
        "persistence true",
        "autosave_interval 10",
        "max_queued_messages 1000000",
        "max_queued_bytes 1073741824",
        "persistent_client_expiration 7d",
        "max_inflight_messages 100",
        "queue_qos0_messages false",
    ):
        assert setting in (DEPLOY / "mosquitto.conf").read_text(), setting
        assert setting in rendered, setting
    assert "listener 1883" in rendered
    assert "acl_file /mosquitto/config/mosquitto.acl" in rendered
    assert not [line for line in rendered if line.split()[0] in ("certfile", "keyfile", "cafile")]


# ---- Kubernetes -----------------------------------------------------------------------------


def _k8s(kind: str) -> list[dict[str, Any]]:
    return [d for p in sorted(K8S.glob("*.yaml")) for d in _yaml_documents(p) if d["kind"] == kind]


def _statefulset() -> dict[str, Any]:
    (statefulset,) = _k8s("StatefulSet")
    return statefulset


def _gateway_container() -> dict[str, Any]:
    (container,) = _statefulset()["spec"]["template"]["spec"]["containers"]
    return container


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


def test_kustomization_names_files_that_exist() -> None:
    (kustomization,) = _yaml_documents(K8S / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]
    for generator in kustomization["configMapGenerator"]:
        for name in generator["files"]:
            assert (K8S / name).is_file(), name


def test_kustomize_builds() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(result.stdout)}
    assert kinds == {"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"}


def test_statefulset_probes_health_and_readiness_on_the_operator_port() -> None:
    container = _gateway_container()
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        http = container[probe]["httpGet"]
        assert http["path"] == path, probe
        assert _port_number(container, http["port"]) == 8080, probe


def test_statefulset_runs_non_root_with_a_read_only_root() -> None:
    pod = _statefulset()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] not in (None, 0)
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"] + pod["initContainers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert set(container["resources"]) == {"requests", "limits"}, container["name"]
    assert pod["terminationGracePeriodSeconds"] >= 30


def test_statefulset_mounts_a_claim_at_the_data_dir(tmp_path: Path) -> None:
    config = _node_config(tmp_path, "otpgate-0")
    statefulset = _statefulset()
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in _gateway_container()["volumeMounts"]}
    assert mounts[str(config.data_dir)] in claims


def test_statefulset_services_and_budget_select_its_pods() -> None:
    statefulset = _statefulset()
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert statefulset["spec"]["selector"]["matchLabels"].items() <= labels.items()
    services = {s["metadata"]["name"]: s for s in _k8s("Service")}
    assert services[statefulset["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"
    ports = set()
    for service in services.values():
        assert service["spec"]["selector"].items() <= labels.items()
        ports |= {p["port"] for p in service["spec"]["ports"]}
    assert ports >= {2775, 8080, 8081}
    (budget,) = _k8s("PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def _secret_files(table: Any) -> list[str]:
    """The names of the Secret's files that the configuration reads (its *_file keys)."""
    prefix = "/etc/otpgate/secrets/"
    if isinstance(table, list):
        return [name for item in table for name in _secret_files(item)]
    if not isinstance(table, dict):
        return []
    names = [
        v[len(prefix) :]
        for k, v in table.items()
        if k.endswith("_file") and str(v).startswith(prefix)
    ]
    return names + [name for value in table.values() for name in _secret_files(value)]


def _node_config(tmp_path: Path, pod_name: str) -> Any:
    """Run the init container's command for a pod, then load the config it wrote."""
    pod = _statefulset()["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    script = init["command"][-1]
    root = tmp_path / pod_name
    for mount in init["volumeMounts"]:
        (root / mount["mountPath"].lstrip("/")).mkdir(parents=True)
    shutil.copy(K8S / "gateway.toml", root / "etc/otpgate/template/gateway.toml")
    subprocess.run(
        ["sh", "-c", script.replace("/etc/otpgate/", f"{root}/etc/otpgate/")],
        env={"PATH": "/usr/bin:/bin", "POD_NAME": pod_name},
        check=True,
        timeout=30,
    )
    written = root / "etc/otpgate/config/gateway.toml"
    # The secrets the Secret example names, as the pod would see them.
    (example,) = _yaml_documents(K8S / "secret.example.yaml")
    text = written.read_text()
    for name in _secret_files(tomllib.loads(text)):
        assert name in example["stringData"], f"{name}: not in secret.example.yaml"
        secret = root / "etc/otpgate/secrets" / name
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(HOLD_KEY if name == "holds-key" else "demo1234")
    written.write_text(text.replace('"/etc/otpgate/secrets/', f'"{root}/etc/otpgate/secrets/'))
    return load_config(written)


def test_pod_name_becomes_the_node_id(tmp_path: Path) -> None:
    for pod_name in ("otpgate-0", "otpgate-1"):
        config = _node_config(tmp_path, pod_name)
        assert config.node_id == pod_name
        assert config.signals.mqtt is not None and config.signals.mqtt.client_id == pod_name


def test_node_config_matches_the_pod(tmp_path: Path) -> None:
    config = _node_config(tmp_path, "otpgate-0")
    container = _gateway_container()
    assert container["args"] == ["run", "--config", "/etc/otpgate/config/gateway.toml"]
    ports = {p["containerPort"] for p in container["ports"]}
    assert ports == {config.smpp.port, config.api.port, config.api.tenant_port}
    assert config.api.host == config.api.tenant_host == config.smpp.host == "0.0.0.0"
    assert config.holds.keys == (HOLD_KEY,)
    assert config.api.operator_key and config.api.key_pepper
    assert config.signals.mqtt is not None and config.signals.mqtt.password
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert config.policy_file is not None and str(config.policy_file.parent) in mounts
    volumes = {v["name"]: v for v in _statefulset()["spec"]["template"]["spec"]["volumes"]}
    policy_volume = volumes[mounts[str(config.policy_file.parent)]["name"]]
    assert policy_volume["configMap"]["name"] == "otpgate-policy"
    secret_volume = volumes[mounts["/etc/otpgate/secrets"]["name"]]
    (example,) = _yaml_documents(K8S / "secret.example.yaml")
    assert secret_volume["secret"]["secretName"] == example["metadata"]["name"]


def test_pod_names_give_distinct_message_id_node_numbers() -> None:
    # Node numbers are 10 bits of a CRC of the node id: make sure the first nodes a
    # StatefulSet names do not collide (a collision would let two nodes issue equal ids).
    names = [f"{_statefulset()['metadata']['name']}-{i}" for i in range(32)]
    assert len({node_number(n) for n in names}) == len(names)


def test_k8s_policy_starts_as_the_shipped_default() -> None:
    assert (K8S / "policy.toml").read_text() == (ROOT / "policies" / "default.toml").read_text(), (
        "deploy/k8s/policy.toml starts as policies/default.toml: copy it again"
    )


# ---- the sample webhook receiver ------------------------------------------------------------


def _receiver_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("otpgate_sample_receiver", RECEIVER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()


def _signed(secret: str, event: dict[str, Any], msg_id: str = "msg_1") -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    now = int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(now, UTC), body.decode())
    return body, {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": str(now),
        "Webhook-Signature": signature,
        "Content-Type": "application/json",
    }


EVENT = {
    "specversion": "1.0",
    "id": "evt_1",
    "source": "otpgate://node-1",
    "type": "otp.held",
    "time": "2026-01-01T00:00:00.000Z",
    "datacontenttype": "application/json",
    "data": {"hold_id": "42", "destination": "+447400123123"},
}


def test_receiver_prints_type_and_data_only() -> None:
    out = io.StringIO()
    receiver = _receiver_module().Receiver([SECRET], out)
    assert receiver.receive(*_signed(SECRET, EVENT)) == 204
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"type": "otp.held", "data": EVENT["data"]}
    ]


def test_receiver_refuses_what_does_not_verify_and_prints_nothing() -> None:
    out = io.StringIO()
    receiver = _receiver_module().Receiver([SECRET], out)
    body, headers = _signed(SECRET, EVENT)
    assert receiver.receive(body.replace(b"42", b"43"), headers) == 401
    assert receiver.receive(*_signed(OLD_SECRET, EVENT)) == 401
    assert receiver.receive(body, {**headers, "Webhook-Signature": "garbage"}) == 401
    assert receiver.receive(body, {**headers, "Webhook-Timestamp": "1"}) == 401
    assert receiver.receive(body, {"Content-Type": "application/json"}) == 401
    assert out.getvalue() == ""


def test_receiver_prints_a_redelivery_once_and_accepts_either_secret_in_a_rotation() -> None:
    out = io.StringIO()
    receiver = _receiver_module().Receiver([SECRET, OLD_SECRET], out)
    assert receiver.receive(*_signed(OLD_SECRET, EVENT)) == 204
    assert receiver.receive(*_signed(SECRET, EVENT)) == 204  # the same webhook-id again
    assert len(out.getvalue().splitlines()) == 1


def test_receiver_without_a_secret_answers_503() -> None:
    out = io.StringIO()
    module = _receiver_module()
    receiver = module.Receiver([], out)
    assert receiver.receive(*_signed(SECRET, EVENT)) == 503
    routes = {(r.method, r.resource.canonical) for r in module.build_app(receiver).router.routes()}
    assert ("POST", "/webhooks") in routes and ("GET", "/healthz") in routes
    assert out.getvalue() == ""
