"""Configuration of ``[camara.jwt]``: JWT access tokens of the operator's authorization server.

Read once at start-up like every table; an error names the file and the key. The table is
optional: without it the CAMARA endpoints take only the gateway's own client-credentials
tokens, as before.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .config_reader import Section

# Asymmetric signatures only: the keys come from a public JWKS, and an HMAC "signed" with a
# public key (or "none") is the classic way to forge a token a resource server accepts.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")  # fmt: skip
DEFAULT_ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True, slots=True)
class CamaraJwtConfig:
    issuer: str
    audience: str
    jwks_url: str
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_s: float = 60.0  # clock skew allowed on exp, nbf and iat
    jwks_refresh_s: float = 300.0  # the JWKS is fetched again this often
    jwks_expire_s: float = 3600.0  # keys kept this long after the last good fetch, then 401
    kid_refetch_min_s: float = 10.0  # an unknown kid fetches the JWKS at most this often
    fetch_timeout_s: float = 5.0
    client_claim: str = "client_id"  # names the client; ``azp`` is read when it is absent
    phone_number_claim: str = "sub"  # "tel:+E164" or "+E164" names the number
    # The authorization server's client ids -> otpgate tenants (quotas, relations, isolation).
    clients: dict[str, str] = field(default_factory=dict)
    token_cache_s: float = 30.0  # a verified token is not verified again for this long


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_camara_jwt(section: Section) -> CamaraJwtConfig | None:
    """The ``[camara.jwt]`` table, or None when it is absent."""
    if not section.data:
        section.done()
        return None
    required = {}
    for key in ("issuer", "audience", "jwks_url"):
        value = section.get(key, str, "")
        if not value:
            section.problems.append(f"{section._where(key)}: required in [camara.jwt]")
        required[key] = value
    url = urlsplit(required["jwks_url"])
    if required["jwks_url"] and not (
        url.scheme == "https" or (url.scheme == "http" and _loopback(url.hostname or ""))
    ):
        # The keys decide who may read subscribers' data: never over plain http off-box.
        section.problems.append(
            f"{section._where('jwks_url')}: expected an https:// URL (http only on loopback),"
            f" got {required['jwks_url']!r}"
        )
    algorithms = section.get("algorithms", list, list(DEFAULT_ALGORITHMS))
    if not algorithms or not all(a in ALGORITHMS for a in algorithms):
        section.problems.append(
            f"{section._where('algorithms')}: expected some of {', '.join(ALGORITHMS)}"
            f" (asymmetric only: never none or HS*), got {algorithms!r}"
        )
        algorithms = list(DEFAULT_ALGORITHMS)
    clients = section.get("clients", dict, {})
    for client_id, tenant in clients.items():
        if not isinstance(tenant, str) or not tenant:
            section.problems.append(
                f"{section._where('clients.' + client_id)}: expected a tenant name, got {tenant!r}"
            )
    if not clients:
        section.problems.append(
            f"{section._where('clients')}: map the authorization server's client ids to"
            ' tenants, e.g. clients = { "a1b2c3" = "paybank" }'
        )
    config = CamaraJwtConfig(
        issuer=required["issuer"],
        audience=required["audience"],
        jwks_url=required["jwks_url"],
        algorithms=tuple(algorithms),
        leeway_s=section.get("leeway_s", float, 60.0),
        jwks_refresh_s=section.positive("jwks_refresh_s", float, 300.0),
        jwks_expire_s=section.positive("jwks_expire_s", float, 3600.0),
        kid_refetch_min_s=section.positive("kid_refetch_min_s", float, 10.0),
        fetch_timeout_s=section.positive("fetch_timeout_s", float, 5.0),
        client_claim=section.get("client_claim", str, "client_id"),
        phone_number_claim=section.get("phone_number_claim", str, "sub"),
        clients={str(k): str(v) for k, v in clients.items()},
        token_cache_s=section.get("token_cache_s", float, 30.0),
    )
    if not 0 <= config.leeway_s <= 300:
        section.problems.append(f"{section._where('leeway_s')}: from 0 to 300 seconds")
    if config.token_cache_s < 0:
        section.problems.append(f"{section._where('token_cache_s')}: 0 or more seconds")
    if config.jwks_expire_s < config.jwks_refresh_s:
        section.problems.append(
            f"{section._where('jwks_expire_s')}: at least jwks_refresh_s"
            f" ({config.jwks_refresh_s:g}), or keys expire between two fetches"
        )
    section.done()
    return config


def check_clients(section_where: str, config: CamaraJwtConfig, tenants: set[str]) -> list[str]:
    """Problems with client ids mapped to tenants the file does not define."""
    return [
        f"{section_where}.clients.{client_id}: no [[tenants]] named {tenant!r}"
        for client_id, tenant in config.clients.items()
        if tenant not in tenants
    ]
