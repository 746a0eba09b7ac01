"""The monitoring that ships in deploy/: the alert rules pass promtool's check and their own
unit tests, and every metric the rules and the Grafana dashboard read is one a running
gateway exports (a renamed metric would otherwise leave a silent dashboard and an alert
that never fires)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .esme import AsyncEsme
from .harness import (
    OPERATOR_KEY,
    PASSWORD,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "otpgate-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "otpgate-dashboard.json"
# Series Prometheus makes itself, not the gateway.
_PROMETHEUS_OWN = {"up"}
_NAME = re.compile(r"\b((?:otpgate|process|python)_[a-z0-9_]+|up)\b")

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool (Debian package prometheus, installed by .ci/run) is not installed",
)


@needs_promtool
def test_the_alert_rules_pass_promtool_check_and_their_unit_tests() -> None:
    check = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = subprocess.run(
        ["promtool", "test", "rules", "otpgate-alerts.test.yml"],
        cwd=RULES.parent,
        capture_output=True,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


def _names_read() -> dict[str, set[str]]:
    rules = RULES.read_text()
    exprs = [m.group(1) for m in re.finditer(r"^\s*expr: (.+)$", rules, re.MULTILINE)]
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return {
        "alert rules": {n for e in exprs for n in _NAME.findall(e)} - _PROMETHEUS_OWN,
        "dashboard": {n for q in queries for n in _NAME.findall(q)} - _PROMETHEUS_OWN,
    }


def _exported(text: str) -> set[str]:
    """Every sample name the exposition can carry, including families without samples yet."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_count", "_sum"),
            "summary": ("_count", "_sum"),
        }.get(family.type, ("",))
        names |= {family.name + suffix for suffix in suffixes}
        names |= {sample.name for sample in family.samples}
    return names


async def test_every_metric_the_rules_and_the_dashboard_read_is_exported(tmp_path) -> None:
    async with (
        running_simulator() as sim,
        running_gateway(gateway_config(tmp_path, (route("main", sim.port),))) as gw,
    ):
        esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
        await esme.submit(text=b"hello")
        esme.close()
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{gw.api_port}/metrics",
                headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
            ) as response,
        ):
            exported = _exported(await response.text())
    for where, names in _names_read().items():
        assert names, f"no metric found in the {where}"
        assert names <= exported, f"the {where} read metrics no gateway exports: {names - exported}"
