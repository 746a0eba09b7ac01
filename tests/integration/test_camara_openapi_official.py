"""The OpenAPI a live gateway serves for the CAMARA operations, against the official documents
stored in tests/camara_features/openapi/: paths, scopes, parameters, request and response
schemas, enums and error codes. Every difference fails, except the deliberate departures
below, each explained in docs/camara.md ("Where the served OpenAPI departs")."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from .harness import gateway_config, route, running_gateway, running_simulator
from .openapi_compare import api_shape, differences

OFFICIAL = Path(__file__).parent.parent / "camara_features" / "openapi"
# The stored documents' servers name pre-release bases (v2rc2, vwip); otpgate serves the
# released ones of r3.3.
APIS = {
    "sim-swap.yaml": "/sim-swap/v2",
    "call-forwarding-signal.yaml": "/call-forwarding-signal/v0.4",
}
CFS = r"POST /call-forwarding-signal/v0\.4/[a-z-]+"
# where (a regex over the flattened path) -> why; docs/camara.md says the same at more length.
DEPARTURES = {
    r".*/responses/429/headers": "Retry-After added to both 429 answers",
    CFS + r"/parameters/header:x-correlator/schema/pattern": "x-correlator checked against "
    "Commonalities 0.6's pattern (SIM Swap 2.1's) on every API; the stored CFS has none",
    CFS + r"/responses/401/.*/code/enum": "AUTHENTICATION_REQUIRED never answered: "
    "client-credentials tokens, no re-authentication flow",
    CFS + r"/responses/404/.*/code/enum": "CALL_FORWARDING.UNKNOWN_PHONE_NUMBER never answered: "
    "IDENTIFIER_NOT_FOUND, Commonalities' code the feature files expect",
    r"POST /call-forwarding-signal/v0\.4/call-forwardings/responses/501/.*": "the operation "
    "is implemented, so 501 NOT_IMPLEMENTED is never answered",
}

pytestmark = pytest.mark.asyncio


def official(name: str) -> dict[str, Any]:
    return yaml.safe_load((OFFICIAL / name).read_text())


def compare(served: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Unexplained differences, and the departures that explained at least one."""
    unexplained, used = [], set()
    for name, base in APIS.items():
        wanted = api_shape(official(name), base)
        paths = [key.split(" ", 1)[1] for key in wanted]
        served_paths = {p for p in served["paths"] if p.startswith(base + "/")}
        if served_paths != set(paths):
            unexplained.append(f"{name}: paths {sorted(served_paths)} != {sorted(set(paths))}")
        got = api_shape(served, "", paths)
        for where, (theirs, ours) in differences(wanted, got).items():
            why = next((rx for rx in DEPARTURES if re.fullmatch(rx, where.lstrip("/"))), None)
            if why is None:
                unexplained.append(f"{where}: official {theirs!r}, served {ours!r}")
            else:
                used.add(why)
    return unexplained, used


async def test_served_camara_openapi_matches_the_official_documents(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        config = gateway_config(tmp_path, (route("main", sim.port),), ())
        async with running_gateway(config) as gw, aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{gw.tenant_api_port}/openapi.json"
            async with http.get(url) as answer:
                served = await answer.json()
    unexplained, used = compare(served)
    assert not unexplained, "\n".join(unexplained)
    assert used == set(DEPARTURES), f"departures no longer needed: {set(DEPARTURES) - used}"

    # The comparison sees what a client would: a dropped code, a changed enum, a lost
    # parameter, a missing operation each fail.
    check = "/sim-swap/v2/check"
    for damage in (
        lambda d: d["paths"][check]["post"]["responses"].pop("422"),
        lambda d: d["paths"][check]["post"].__setitem__("parameters", []),
        lambda d: d["components"]["schemas"]["CallForwardingSignal"]["items"]["enum"].pop(),
        lambda d: d["components"]["schemas"]["CreateCheckSimSwap"]["properties"][
            "maxAge"
        ].__setitem__("maximum", 240),
        lambda d: d["paths"].pop("/call-forwarding-signal/v0.4/call-forwardings"),
        lambda d: d["paths"][check]["post"].__setitem__("security", [{"oauth2": ["sim-swap"]}]),
    ):
        broken = copy.deepcopy(served)
        damage(broken)
        assert compare(broken)[0], "a damaged document passed"
