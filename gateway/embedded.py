"""The configuration ``otpgate run`` uses without a file: everything local, a simulator upstream,
and a demo tenant, so the first run can show a hold, a webhook and a CAMARA answer."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

from .config import AccountConfig, ApiConfig, Config, RouteConfig, SmppConfig
from .config_tenants import TenantConfig, WebhooksConfig
from .passwords import hash_password

DEMO_ACCOUNT = "demo"
DEMO_TENANT = "demo-bank"


def embedded_config(data_dir: Path = Path("otpgate-data")) -> tuple[Config, str, str]:
    """(config, demo account password, operator API key); the secrets are new on every start."""
    password = secrets.token_urlsafe(6)[:8]
    operator_key = secrets.token_urlsafe(24)
    config = Config(
        source="<embedded defaults>",
        data_dir=data_dir,
        smpp=SmppConfig(
            host="127.0.0.1",
            port=2775,
            accounts=(
                AccountConfig(
                    system_id=DEMO_ACCOUNT,
                    password_hash=hash_password(password),
                    tenant=DEMO_TENANT,
                ),
            ),
            routes=(RouteConfig(name="simulator", simulator=True),),
            mo_account=DEMO_ACCOUNT,
        ),
        api=ApiConfig(host="127.0.0.1", port=8080, operator_key=operator_key),
        tenants=(TenantConfig(DEMO_TENANT, camara=True),),
        # Everything listens on loopback: a webhook receiver on this machine is allowed, as
        # it never is on a configured gateway.
        webhooks=WebhooksConfig(
            allow_http_hosts=frozenset({"127.0.0.1", "localhost"}),
            allow_networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
        ),
        log_format="console",
    )
    return config, password, operator_key


def embedded_banner(
    smpp: int | None,
    api: int | None,
    tenant: int | None,
    password: str,
    operator_key: str,
    tenant_key: str,
) -> str:
    """What the first run prints: where everything listens, its secrets, five minutes of use."""
    host = "127.0.0.1"
    return f"""otpgate on embedded defaults (SQLite in ./otpgate-data, built-in SMSC simulator)
  SMPP          {host}:{smpp}  system_id={DEMO_ACCOUNT} password={password}
  operator API  http://{host}:{api}  Authorization: Bearer {operator_key}
  console       http://{host}:{api}/console/  (log in with the operator key)
  tenant API    http://{host}:{tenant}  tenant {DEMO_TENANT}, key {tenant_key}
five minutes with it, in another terminal:
  export OTPGATE_PASSWORD={password} OTPGATE_OPERATOR_KEY={operator_key}
  otpgate send --to +447400123123 --text 'Your PayBank code is 482913'     # delivered
  otpgate signal sim-swap +447400123123                                     # the SIM changes
  otpgate send --to +447400123123 --text 'Your PayBank code is 482913'     # held: no receipt
  curl -s -H "Authorization: Bearer {tenant_key}" http://{host}:{tenant}/v1/holds
  curl -s -X POST -H "Authorization: Bearer {tenant_key}" http://{host}:{tenant}/v1/holds/<id>/release"""
