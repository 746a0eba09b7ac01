"""CAMARA's own test definitions (tests/camara_features/*.feature, issue 17 item 7) run
against a real gateway on loopback: every scenario otpgate can serve is executed step by
step; the rest are reported not applicable, with the reason, and never faked."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from gateway.config_camara_jwt import CamaraJwtConfig
from gateway.config_tenants import TenantConfig

from .esme import AsyncEsme
from .gherkin_reader import Scenario, read_feature
from .harness import PASSWORD, ShiftedClock, running_gateway, running_simulator
from .jwks_server import AUDIENCE, CLIENT_ID, ISSUER, Jwks, running_jwks
from .test_camara import QUIET, SWAPPED, key_for, signal, token
from .test_camara import config as camara_config

pytestmark = pytest.mark.asyncio

FEATURES = Path(__file__).parent.parent / "camara_features"
CFS = "/call-forwarding-signal/v0.4"
CORRELATOR = "b4333c46-49c0-4f62-80d7-f0ef930f1c46"
RECENT = "+447400123126"  # swapped 6 hours ago: "in the last N hours" for every N >= 12
OLD = "+447400123127"  # swapped 300 hours ago: before the default maxAge of 240
ANCIENT = "+447400123128"  # swapped 40 days ago: before the 30-day monitored period
FORWARDED = "+447400123124"  # unconditional forwarding active (test_camara's setup)
MAX_AGE_LIMIT_H = 720  # the operator's own limit, so 400.4 has a monitored period to pass
MONITORED_DAYS = 30
NO_BODY = object()

OWN_RANGES = ("+447400",)  # [camara] own_ranges: every number above is in them
NOT_APPLICABLE_RANGES = ("+4474009",)  # [camara] not_applicable_ranges
UNKNOWN = "+33612345678"  # outside the own ranges: a number the network does not know
NOT_SERVED = "+447400900001"  # in a range the service does not apply to
# [camara] server_rate_per_s and server_burst: room for every other scenario's requests; the
# 429.2 scenarios spend it, so they run last; one request per 50 s comes back meanwhile.
SERVER_RATE_PER_S, SERVER_BURST = 0.02, 300
LAST = "_429.2_"

# Scenarios that need what otpgate does not have: said once, by scenario id (prefix). Those
# with a token that names the number run with a JWT of an authorization server on loopback.
NOT_APPLICABLE = {
    "call_forwarding_signal_501": "applies to a provider without the operation; otpgate has it",
    "retrieve_sim_swap_date_3_": "for operators with unlimited history: otpgate has a "
    "monitored period and knows no activation dates",
}
# Scenarios docs/camara.md says otpgate answers otherwise, deliberately.
DELIBERATE = {
    "call_forwarding_signal_400.2_empty_request_body": "docs/camara.md: {} with a 2-legged "
    "token is 422 MISSING_IDENTIFIER, as the API text and Commonalities say",
    "call_forwarding_signal_02_call_forwarding_check_not_active": "docs/camara.md: the "
    'official CallForwardingSignal schema is an array, so inactive is ["inactive"]',
    "call_forwarding_signal_03_call_forwarding_check_not_active": "docs/camara.md: the "
    'official CallForwardingSignal schema is an array, so inactive is ["inactive"]',
}


class StepFailed(AssertionError):
    pass


@dataclass
class Request:
    """One scenario's request as its steps build it, and the answer once sent."""

    scenario: Scenario
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = NO_BODY
    default_phone: bool = False  # the Background's number, not one a step chose
    three_legged: bool = False  # the token names the number
    status: int = 0
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer: Any = None


class World:
    """The running gateway, its tokens and the served OpenAPI the schema steps check against."""

    def __init__(self, gw: Any, clock: ShiftedClock, tokens: dict[str, str], jwks: Jwks) -> None:
        self.gw, self.clock, self.tokens, self.jwks = gw, clock, tokens, jwks
        self.openapi: dict[str, Any] = {}
        self.expire = False  # the next request goes out after its token's lifetime

    async def spend_server_limit(self, r: Request) -> None:
        """Another client's requests until the server answers TOO_MANY_REQUESTS."""
        other = {**r.headers, "Authorization": f"Bearer {self.tokens['other']}"}
        for _ in range(SERVER_BURST + 10):
            spent = replace(r, headers=other, body={"phoneNumber": QUIET})
            await self.send(spent)
            if spent.status == 429 and spent.answer["code"] == "TOO_MANY_REQUESTS":
                return
        raise StepFailed(f"no TOO_MANY_REQUESTS after {SERVER_BURST + 10} requests")

    async def send(self, r: Request) -> None:
        url = f"http://127.0.0.1:{self.gw.tenant_api_port}{r.path}"
        kwargs: dict[str, Any] = {} if r.body is NO_BODY else {"json": r.body}
        # Expiry by the gateway's own clock, moved back at once: no sleep, no other effect.
        shift = self.gw.config.camara.token_lifetime_s + 1 if self.expire else 0.0
        self.clock.advance(shift)
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(url, headers=r.headers, **kwargs) as a,
            ):
                r.status, r.answer_headers = a.status, dict(a.headers)
                r.answer = await a.json() if a.content_type == "application/json" else None
        finally:
            self.clock.advance(-shift)
            self.expire = False


def check(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)


def phone(r: Request, number: str) -> None:
    r.body = {**(r.body if isinstance(r.body, dict) else {}), "phoneNumber": number}
    r.default_phone = False


def token_naming_the_number(world: World, r: Request) -> None:
    """A JWT of the authorization server naming the number a step put in the body (the
    scenarios "identifying same phone number"), else the scenario's own; the Background's
    default number leaves the body, which is the schema's valid body of a 3-legged call."""
    body = r.body if isinstance(r.body, dict) else {}
    if r.default_phone or "phoneNumber" not in body:
        number = FORWARDED if "_05_" in r.scenario.tag else QUIET
        r.body = {k: v for k, v in body.items() if k != "phoneNumber"}
    else:
        number = body["phoneNumber"]
    token = world.jwks.token(sub=f"tel:{number}", now=world.clock.now())
    r.headers["Authorization"] = f"Bearer {token}"
    r.three_legged = True


def set_field(r: Request, name: str, value: Any) -> None:
    r.body = {**(r.body if isinstance(r.body, dict) else {}), name: value}


async def run_step(world: World, r: Request, text: str) -> None:
    """One step, by the wording the files use; an unknown wording fails loudly."""
    tag = r.scenario.tag
    m = re.fullmatch
    if g := m(r'the resource "(.+)"', text):
        r.path = g[1]
    elif g := m(r'the path "(.+)"', text):
        r.path = CFS + g[1]
    elif g := m(r'the header "Content-Type" is set to "(.+)"', text):
        r.headers["Content-Type"] = g[1]
    elif text == 'the header "Authorization" is set to a valid access token':
        r.headers["Authorization"] = f"Bearer {world.tokens['all']}"
    elif text.startswith('the header "x-correlator" complies with the schema'):
        r.headers["x-correlator"] = CORRELATOR
    elif text.startswith("the request body is set by default to a request body compliant"):
        phone(r, QUIET)
        r.default_phone = True
    elif text.startswith(("a valid phone number identified by the token or provided",
                          'the request body property "$.phoneNumber" is set to a valid phone number supported')) or text in (
        'the request body property "$.phoneNumber" is set to a proper value',
        'the request body property "$.phoneNumber" is set to a valid testing phoneNumber',
        'the request body property "$.phoneNumber" is set to a valid phone number',
    ):  # fmt: skip
        phone(r, QUIET)
    elif text == "the request body is set to a valid request body":
        if not isinstance(r.body, dict):
            r.body = {}
            if not r.three_legged:
                phone(r, QUIET)
    elif m(r'(?i)the header "Authorization" is set to a valid access token identifying (a phone number|a phoneNumber|same phone number)', text):  # fmt: skip
        token_naming_the_number(world, r)
    elif text == 'the request body property "$.phoneNumber" is not set to a value':
        r.body = {k: v for k, v in (r.body if isinstance(r.body, dict) else {}).items()
                  if k != "phoneNumber"}  # fmt: skip
    elif text.startswith(
        'the request body property "$.phoneNumber" is set to a valid phone number for which the call forwarding service status could be retrieved'
    ):
        # Same wording for the inactive (02) and the active (04) scenario: the id decides.
        phone(r, FORWARDED if "_04_" in tag else QUIET)
    elif m(r'the request body property "\$\.phoneNumber" is set to a valid phone number for which the (unconditional )?call forwarding status could not be retrieved', text) or text == (
        'the request body property "$.phoneNumber" is compliant with the schema but does not identify a valid phone number'
    ):  # fmt: skip
        phone(r, UNKNOWN)
    elif text in ('the request body property "$.phoneNumber" is set to a phone number for which the service is not available',
                  "a valid phone number, identified by the token or provided in the request body, for which the service is not applicable"):  # fmt: skip
        phone(r, NOT_SERVED)
    elif (
        text
        == "that the service is not available for all phone numbers commercialized by the operator"
    ):
        check(world.gw.config.camara.not_applicable_ranges == NOT_APPLICABLE_RANGES, "ranges")
    elif text == "the SIM for this phone number has been swapped in the last 240 hours":
        phone(r, SWAPPED)
    elif m(r'the SIM for this phone number has been swapped in the last "\d+"', text):
        phone(r, RECENT)
    elif g := m(
        r'the "maxAge" request body property is set to a value equal or greater than "(\d+)" within the allowed range',
        text,
    ):
        set_field(r, "maxAge", int(g[1]))
    elif text == "the SIM for this phone number has been swapped more than 240 hours ago":
        phone(r, OLD)
    elif text.startswith(
        'the request body property "maxAge" is set to the number of hours since the last SIM swap minus 1'
    ):
        phone(r, SWAPPED)
        set_field(r, "maxAge", 30 - 1)  # SWAPPED changed SIM 30 hours ago
    elif text.startswith(("the last swap for this phone number's SIM was more than",
                          "the activation of the SIM occurred more than")):  # fmt: skip
        pass  # facts of the network the numbers above were set up to have
    elif text in ("the SIM for this phone number has never been swapped",
                  "the phone number is not associated to any sim card"):  # fmt: skip
        phone(r, QUIET)  # otpgate knows no change for it: the same answer either way
    elif g := m(
        r'the request body property "maxAge" is set to a value less than "(\d+)" within the allowed range',
        text,
    ):
        set_field(r, "maxAge", int(g[1]) - 1)
    elif text == "the SIM for this phone number has been swapped":
        phone(r, SWAPPED)
    elif (
        text
        == "the SIM for this phone number has been swapped before the limited history window threshold"
    ):
        phone(r, ANCIENT)
    elif text == 'the header "Authorization" is removed':
        r.headers.pop("Authorization", None)
    elif text == 'the header "Authorization" is set to an expired access token':
        world.expire = True
    elif text in ('the header "Authorization" is set to an invalid access token',
                  "an invalid authentication token"):  # fmt: skip
        r.headers["Authorization"] = "Bearer not-a-token-this-gateway-issued"
    elif text.startswith(('the header "Authorization" is set to a valid access token which does not identify',
                          'the header "Authorization" is set to a valid access token from which the phone number cannot')):  # fmt: skip
        r.headers["Authorization"] = f"Bearer {world.tokens['all']}"
        if text.endswith("cannot be deducted"):
            r.body = {}  # the scenario sets no number: the default body is the schema's {}
    elif m(r'the response body is a string with the value "(.+)"', text):
        check(r.answer == text.rsplit('"', 2)[1], f"body {r.answer}")
    elif text.startswith('the request body property "$.phoneNumber" does not comply'):
        phone(r, "07400123123")  # national format, no "+"
    elif text.startswith('the request body property "$.maxAge" does not comply'):
        set_field(r, "maxAge", "24")  # a string where the schema wants an integer
    elif g := m(r'the request body property "\$\.maxAge" is set to (\d+)', text):
        set_field(r, "maxAge", int(g[1]))
    elif text.startswith(
        'the request body property "$.maxAge" is set to a valid value above the supported'
    ):
        set_field(r, "maxAge", MAX_AGE_LIMIT_H + 1)
    elif text == 'the request body property "$.phoneNumber" is not included':
        r.body = {k: v for k, v in r.body.items() if k != "phoneNumber"}
    elif text == "the request body is not included":
        r.body = NO_BODY
    elif g := m(r'the request body is set to "(.*)"', text):
        r.body = json.loads(g[1])
    elif text == "an access token with an invalid context":
        r.headers["Authorization"] = f"Bearer {world.tokens['sim-swap']}"
    elif text == "the number of endpoints calls is equal to the business limit":
        r.headers["Authorization"] = f"Bearer {world.tokens['tight']}"
        await world.send(replace(r, headers=dict(r.headers)))  # spends the quota of 1
    elif text == "the number of endpoints calls from any API Consumer is equal to the server limit":
        await world.spend_server_limit(r)
    elif text in ("a new endpoint invocation is done", "the endpoint is invoked"):
        pass  # the request the When step sends
    elif m(r'the request "\w+" is sent|the HTTP "POST" request is sent', text):
        await world.send(r)
    elif g := m(r'the response status code is "?(\d+)"?', text):
        check(r.status == int(g[1]), f"status {r.status}, expected {g[1]}: {r.answer}")
    elif g := m(r'the response header "Content-Type" is "(.+)"', text):
        got = r.answer_headers.get("Content-Type", "").split(";")[0].strip()
        check(got == g[1], f"Content-Type {got!r}")
    elif (
        text
        == 'the response header "x-correlator" has same value as the request header "x-correlator"'
    ):
        check(r.answer_headers.get("x-correlator") == CORRELATOR, "x-correlator not echoed")
    elif g := m(r'the response body complies with the OAS schema at "(.+)"', text):
        schema = {**world.openapi, "$ref": "#" + g[1]}
        try:
            jsonschema.Draft202012Validator(schema).validate(r.answer)
        except jsonschema.ValidationError as e:
            raise StepFailed(f"not {g[1]}: {e.message}") from None
    elif g := m(r'the value of response property "\$\.(\w+)" == (true|false)', text):
        check(r.answer.get(g[1]) is (g[2] == "true"), f"{g[1]} = {r.answer.get(g[1])}")
    elif g := m(r'the response property "\$\.(\w+)" is (\d+)', text):
        check(r.answer.get(g[1]) == int(g[2]), f"{g[1]} = {r.answer.get(g[1])}")
    elif g := m(r'the response property "\$\.(\w+)" is "(.+)"', text):
        check(r.answer.get(g[1]) == g[2], f"{g[1]} = {r.answer.get(g[1])}")
    elif text == 'the response property "$.message" contains a user friendly text':
        check(isinstance(r.answer.get("message"), str) and r.answer["message"] != "", "message")
    elif text == 'the response property "$.latestSimChange" contains a valid timestamp':
        value = r.answer.get("latestSimChange")
        check(isinstance(value, str) and datetime.fromisoformat(value) is not None, str(value))
    elif text == 'the response property "$.latestSimChange" is null':
        check("latestSimChange" in r.answer and r.answer["latestSimChange"] is None, str(r.answer))
    elif text.startswith('the response optionally contains the property "$.monitoredPeriod"'):
        check(r.answer.get("monitoredPeriod", MONITORED_DAYS) == MONITORED_DAYS, str(r.answer))
    elif g := m(
        r"the response body is an array of strings with the possible values \[(.*)\]", text
    ):
        allowed = {v.strip().strip('"') for v in g[1].split(",")}
        ok = isinstance(r.answer, list) and r.answer and all(v in allowed for v in r.answer)
        check(bool(ok), f"body {r.answer}")
    elif text == 'the response body property "$.active" is one of: ["true", "false"]':
        # The quoted words are JSON's booleans: the schema says "active" is a boolean.
        check(isinstance(r.answer.get("active"), bool), f"active = {r.answer.get('active')}")
    else:
        raise StepFailed(f"step not mapped: {text}")


async def run(world: World, s: Scenario) -> tuple[str, str]:
    for key, reason in NOT_APPLICABLE.items():
        if key in s.tag:
            return "not applicable", reason
    # Deliberate ones run too: the table shows what otpgate answers, and one that starts
    # to pass is reported as a pass.
    deliberate = next((why for key, why in DELIBERATE.items() if s.tag.startswith(key)), None)
    r = Request(s)
    for text in s.steps:
        try:
            await run_step(world, r, text)
        except StepFailed as e:
            if deliberate is not None:
                return "otherwise (deliberate)", f"{deliberate} (got {e})"
            return "fail", f"{text}: {e}"
    return "pass", ""


async def gateway_world(gw: Any, clock: ShiftedClock, jwks: Jwks) -> World:
    """Signals and the traffic that makes each number paybank's (the relation), and tokens."""
    signal(gw, SWAPPED, 30, kind="sim_swap")
    signal(gw, RECENT, 6, kind="sim_swap")
    signal(gw, OLD, 300, kind="sim_swap")
    signal(gw, ANCIENT, 40 * 24, kind="sim_swap")
    signal(gw, FORWARDED, 2, kind="call_forwarding", service="cfu", active=True,
           forwarded_to="+447700900123")  # fmt: skip
    esme = await AsyncEsme.bind(gw.smpp_port, "bank", PASSWORD)
    for number in (SWAPPED, RECENT, OLD, ANCIENT, FORWARDED, QUIET):
        await esme.submit(destination=number[1:], text=b"Your statement is ready")
    esme.close()
    tokens = {}
    for name, tenant, scope in (("all", "paybank", None), ("sim-swap", "paybank", "sim-swap"),
                                ("tight", "tight", None), ("other", "other", None)):  # fmt: skip
        status, body = await token(gw, await key_for(gw, tenant), scope)
        assert status == 200, body
        tokens[name] = body["access_token"]
    world = World(gw, clock, tokens, jwks)
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{gw.tenant_api_port}/openapi.json"
        async with http.get(url) as a:
            world.openapi = await a.json()
    return world


async def test_camara_feature_files(tmp_path: Path) -> None:
    scenarios = [s for f in sorted(FEATURES.glob("*.feature")) for s in read_feature(f)]
    assert len(scenarios) > 60, "the feature files were not read"
    clock = ShiftedClock()
    async with running_jwks(Jwks()) as jwks, running_simulator() as sim:
        base = camara_config(tmp_path, sim.port, max_age_h=MAX_AGE_LIMIT_H,
                             monitored_days=MONITORED_DAYS, own_ranges=OWN_RANGES,
                             not_applicable_ranges=NOT_APPLICABLE_RANGES,
                             server_rate_per_s=SERVER_RATE_PER_S,
                             server_burst=SERVER_BURST,
                             jwt=CamaraJwtConfig(ISSUER, AUDIENCE, jwks.url,
                                                 clients={CLIENT_ID: "paybank"}))  # fmt: skip
        config = replace(
            base,
            tenants=(
                TenantConfig("paybank", camara=True, camara_quota_per_minute=10_000),
                TenantConfig("tight", camara=True, camara_quota_per_minute=1),
                TenantConfig("other", camara=True, camara_quota_per_minute=10_000),
                *base.tenants[1:],
            ),
        )
        async with running_gateway(config, clock=clock) as gw:
            world = await gateway_world(gw, clock, jwks)
            outcomes: dict[int, tuple[str, str]] = {}
            for i in sorted(range(len(scenarios)), key=lambda i: LAST in scenarios[i].tag):
                outcomes[i] = await run(world, scenarios[i])
            results = [(s, *outcomes[i]) for i, s in enumerate(scenarios)]
    lines = []
    for s, outcome, reason in results:
        row = f" [{','.join(s.example.values())}]" if s.example else ""
        operation = s.feature.rsplit("Operation ", 1)[-1]
        lines.append(f"{outcome:24} {operation:38} {s.tag}{row}  {reason}".rstrip())
    counts = {o: sum(1 for _, out, _ in results if out == o) for o in
              ("pass", "fail", "not applicable", "otherwise (deliberate)")}  # fmt: skip
    print("\n" + "\n".join(lines) + f"\n{counts}")
    assert counts["fail"] == 0, "\n".join(line for line in lines if line.startswith("fail"))
