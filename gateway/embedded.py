"""The configuration ``otpgate run`` uses without a file: everything local, a simulator upstream."""

from __future__ import annotations

import secrets
from pathlib import Path

from .config import AccountConfig, ApiConfig, Config, RouteConfig, SmppConfig
from .passwords import hash_password

DEMO_ACCOUNT = "demo"


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
                AccountConfig(system_id=DEMO_ACCOUNT, password_hash=hash_password(password)),
            ),
            routes=(RouteConfig(name="simulator", simulator=True),),
            mo_account=DEMO_ACCOUNT,
        ),
        api=ApiConfig(host="127.0.0.1", port=8080, operator_key=operator_key),
        log_format="console",
    )
    return config, password, operator_key
