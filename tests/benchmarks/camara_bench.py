"""CAMARA SIM Swap check answered from the index, on one gateway process, against /healthz.

    python -m tests.benchmarks.camara_bench [--numbers 2000] [--duration 10] [--connections 8]
                                            [--jwt-cache-s 30]

The gateway and the SMSC simulator run as their own processes; the load is wrk on loopback
(``apt-get install wrk``), one thread, ``--connections`` kept busy (a closed loop: latency
is what a client sees with that many requests in flight). In the same run it measures
``GET /healthz`` on the tenant listener (the cost of aiohttp and the socket alone, the
baseline), then ``POST /sim-swap/v2/check`` with a client-credentials token over
``--numbers`` numbers the tenant sent to (a tenth of them swapped an hour before), and
prints requests/s, p50/p99 latency and the gateway's CPU per request. Then the same check
with 3-legged JWTs (RS256, one per number, the number in ``sub``, an empty body) of an
authorization server whose JWKS a static file server on loopback serves; ``--jwt-cache-s
0`` verifies the signature on every request. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from joserfc import jwt
from joserfc.jwk import RSAKey

from ..integration.esme import AsyncEsme
from ..integration.jwks_server import AUDIENCE, CLIENT_ID, ISSUER
from .loadgen import process_cpu_s
from .throughput import PASSWORD, _free_port, _start, _wait_port

TENANT = "paybank"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _config(
    directory: Path, smpp: int, sim: int, api: int, tenant_api: int, jwks: int, cache_s: float
) -> Path:
    path = directory / "camara.toml"
    path.write_text(
        f"""
[node]
id = "bench"
data_dir = "{directory / "data"}"
[smpp.listen]
host = "127.0.0.1"
port = {smpp}
[[smpp.accounts]]
system_id = "bench"
password_env = "BENCH_PASSWORD"
tenant = "{TENANT}"
window = 1000
[smpp.upstream]
host = "127.0.0.1"
port = {sim}
system_id = "bench"
password_env = "BENCH_PASSWORD"
[api]
host = "127.0.0.1"
port = {api}
tenant_host = "127.0.0.1"
tenant_port = {tenant_api}
operator_key_env = "BENCH_PASSWORD"
[[tenants]]
name = "{TENANT}"
camara = true
camara_quota_per_minute = 100000000
[camara.jwt]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
jwks_url = "http://127.0.0.1:{jwks}/jwks.json"
clients = {{ "{CLIENT_ID}" = "{TENANT}" }}
token_cache_s = {cache_s}
[logging]
level = "warning"
"""
    )
    return path


async def _prepare(smpp: int, api: int, tenant_api: int, numbers: list[str]) -> str:
    """Signals for a tenth of the numbers, traffic to all of them (the relation); a token."""
    operator = {"Authorization": f"Bearer {PASSWORD}"}
    occurred = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
    async with aiohttp.ClientSession() as http:
        swaps = [{"kind": "sim_swap", "msisdn": n, "occurred_at": occurred} for n in numbers[::10]]
        async with http.post(
            f"http://127.0.0.1:{api}/v1/signals", json=swaps, headers=operator
        ) as r:
            assert r.status == 200, await r.text()
        async with http.post(
            f"http://127.0.0.1:{api}/v1/tenants/{TENANT}/keys", headers=operator
        ) as r:
            key = (await r.json())["key"]
        basic = base64.b64encode(f"{key[:13]}:{key}".encode()).decode()
        async with http.post(
            f"http://127.0.0.1:{tenant_api}/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "sim-swap:check"},
            headers={"Authorization": f"Basic {basic}"},
        ) as r:
            token = (await r.json())["access_token"]
    esme = await AsyncEsme.bind(smpp, "bench", PASSWORD)
    window = asyncio.Semaphore(8)  # below the ESME session's own window

    async def send(number: str) -> None:
        async with window:
            await esme.submit(destination=number[1:], text=b"Your statement is ready")

    await asyncio.gather(*(send(n) for n in numbers))
    esme.close()
    return str(token)


def _jwt_tokens(key: RSAKey, numbers: list[str]) -> list[str]:
    """What the authorization server would issue: one token per subscriber, for an hour."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600,
              "client_id": CLIENT_ID, "scope": "openid sim-swap:check"}  # fmt: skip
    header = {"alg": "RS256", "kid": key.kid}
    return [jwt.encode(header, {**claims, "sub": f"tel:{n}"}, key) for n in numbers]


def _jwt_lua(directory: Path, tokens: list[str]) -> Path:
    path = directory / "check-jwt.lua"
    listed = ",".join(f'"{t}"' for t in tokens)
    path.write_text(
        f"""
local tokens = {{{listed}}}
local i = 0
request = function()
  i = i % #tokens + 1
  local headers = {{["Authorization"] = "Bearer " .. tokens[i],
                   ["Content-Type"] = "application/json"}}
  return wrk.format("POST", "/sim-swap/v2/check", headers, '{{"maxAge":240}}')
end
"""
    )
    return path


def _lua(directory: Path, token: str, numbers: list[str]) -> Path:
    path = directory / "check.lua"
    listed = ",".join(f'"{n}"' for n in numbers)
    path.write_text(
        f"""
local numbers = {{{listed}}}
local headers = {{["Authorization"] = "Bearer {token}", ["Content-Type"] = "application/json"}}
local i = 0
request = function()
  i = i % #numbers + 1
  local body = '{{"phoneNumber":"' .. numbers[i] .. '","maxAge":240}}'
  return wrk.format("POST", "/sim-swap/v2/check", headers, body)
end
"""
    )
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def _wrk(url: str, args: argparse.Namespace, pid: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    before = process_cpu_s(pid)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    cpu_s = process_cpu_s(pid) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "cpu_us": cpu_s / max(1, requests) * 1e6,
        "requests": requests,
        "errors": int(bad.group(1)) if bad else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--jwt-cache-s", type=float, default=30.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)")
        return 2
    numbers = [f"+447400{i:06d}" for i in range(args.numbers)]
    env = {**os.environ, "BENCH_PASSWORD": PASSWORD}
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        sim, smpp, api, tenant_api, jwks = (_free_port() for _ in range(5))
        key = RSAKey.generate_key(2048, parameters={"kid": "bench-1"})
        (directory / "jwks.json").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        jwks_server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(jwks), "--bind", "127.0.0.1",
             "--directory", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        simulator = _start(["smsc-sim", "--port", str(sim), "--receipt-delay", "0.01"], env)
        _wait_port(sim)
        _wait_port(jwks)
        config = _config(directory, smpp, sim, api, tenant_api, jwks, args.jwt_cache_s)
        gateway = _start(["run", "--config", str(config)], env)
        try:
            for port in (smpp, api, tenant_api):
                _wait_port(port)
            token = asyncio.run(_prepare(smpp, api, tenant_api, numbers))
            base = f"http://127.0.0.1:{tenant_api}"
            script = _lua(directory, token, numbers)
            _wrk(
                base + "/healthz",
                argparse.Namespace(**{**vars(args), "duration": 2}),
                gateway.pid,
                None,
            )
            healthz = _wrk(base + "/healthz", args, gateway.pid, None)
            check = _wrk(base + "/sim-swap/v2/check", args, gateway.pid, script)
            jwt_script = _jwt_lua(directory, _jwt_tokens(key, numbers))
            with_jwt = _wrk(base + "/sim-swap/v2/check", args, gateway.pid, jwt_script)
        finally:
            gateway.terminate()
            simulator.terminate()
            jwks_server.terminate()
            gateway.wait(30)
            simulator.wait(10)
            jwks_server.wait(10)
    print(
        f"CAMARA check from the index: 1 gateway process, wrk -t1 -c{args.connections}"
        f" -d{args.duration}s on loopback, {args.numbers} numbers, Python {sys.version.split()[0]}"
    )
    jwt_label = f"check, JWT (cache {args.jwt_cache_s:g} s)"
    for label, r in (
        ("GET /healthz (baseline)", healthz),
        ("POST /sim-swap/v2/check", check),
        (jwt_label, with_jwt),
    ):
        print(
            f"  {label:<26} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms"
            f"  CPU {r['cpu_us']:6.0f} us/request  ({r['requests']:.0f} requests,"
            f" {r['errors']:.0f} not 2xx)"
        )
    print(
        f"  check / baseline: {check['rps'] / healthz['rps']:.2f} x the rate,"
        f" {check['cpu_us'] / healthz['cpu_us']:.2f} x the CPU per request;"
        f" JWT / client credentials: {with_jwt['rps'] / check['rps']:.2f} x the rate,"
        f" {with_jwt['cpu_us'] - check['cpu_us']:+.0f} us CPU per request"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
