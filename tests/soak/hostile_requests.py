"""Hand-made hostile requests for every route: bodies, query strings and path values that
generated requests rarely reach (deep nesting, megabytes, wrong types, Unicode edge cases,
invalid UTF-8, numbers beyond any range, broken forms).

``HostileRequests`` walks the product of routes and hostile inputs in a shuffled order and
starts over when it is through, so a long run meets every input on every route.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
NUMBER = "+447420000001"
_BIG_INT = b"9" * 5000  # past Python's 4,300-digit limit of int() from a string


@dataclass(frozen=True, slots=True)
class Hostile:
    name: str
    body: bytes
    content_type: str | None = JSON


def _bodies() -> list[Hostile]:
    huge = b"9" * (17 * 1024 * 1024)  # over both listeners' request size limits
    big = b"A" * (600 * 1024)  # under them, but far beyond any field's sense
    signal = b'{"kind": "sim_swap", "msisdn": "%s", "occurred_at": "%s"}'
    return [
        Hostile("deep array", b"[" * 100_000),
        Hostile("deep object", b'{"a":' * 5_000 + b"1" + b"}" * 5_000),
        Hostile("deep but closed", b"[" * 30 + b"{}" + b"]" * 30),
        Hostile("huge string", b'{"msisdn": "' + huge + b'"}'),
        Hostile("big string", b'{"phoneNumber": "+44' + big + b'", "reason": "' + big + b'"}'),
        Hostile("big url", b'{"url": "https://example.com/' + big + b'"}'),
        Hostile("array", b"[]"),
        Hostile("number", b"1"),
        Hostile("string", b'"x"'),
        Hostile("null", b"null"),
        Hostile("true", b"true"),
        Hostile("msisdn number", b'{"msisdn": 447420000001, "phoneNumber": 447420000001}'),
        Hostile("fields as arrays", b'{"msisdn": ["a"], "phoneNumber": ["+44"], "url": []}'),
        Hostile("reason object", b'{"reason": {"a": 1}, "event_types": "otp.held"}'),
        Hostile("webhook types", b'{"url": 12, "event_types": [1, null, {}], "enabled": "yes"}'),
        Hostile("signal nulls", b'{"kind": 1, "msisdn": null, "occurred_at": []}'),
        Hostile("signal list of junk", b"[1, null, [], {}]"),
        Hostile("lone surrogate", b'{"msisdn": "\\ud800", "reason": "\\udfff", "url": "\\ud83d"}'),
        Hostile("nul", b'{"msisdn": "+44\\u0000", "phoneNumber": "\\u0000", "reason": "\\u0000"}'),
        Hostile(
            "bidi and zero width",
            '{"msisdn": "\u202e+447420000001", "phoneNumber": "+4474\u200b20000001"}'.encode(),
        ),
        Hostile("fullwidth digits", '{"phoneNumber": "＋４４７４２００００００１"}'.encode()),
        Hostile("emoji", '{"reason": "😀\u0301\u0301", "description": "🏦"}'.encode()),
        Hostile("bom", b'\xef\xbb\xbf{"phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("invalid utf-8", b'{"msisdn": "\xff\xfe\xfd", "phoneNumber": "\xc0\xaf"}'),
        Hostile("cut utf-8", b'{"reason": "\xe2\x82'),
        Hostile("latin-1 body", '{"reason": "café"}'.encode("latin-1")),
        Hostile("float overflow", b'{"maxAge": 1e400, "limit": -1e400}'),
        Hostile("big int", b'{"maxAge": ' + _BIG_INT + b"}"),
        Hostile(
            "big int signal",
            signal[:-1] % (NUMBER.encode(), b"2024-01-01T00:00:00Z") + b', "x": ' + _BIG_INT + b"}",
        ),
        Hostile("nan", b'{"maxAge": NaN, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("infinity", b'{"maxAge": Infinity, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("max age huge", b'{"maxAge": 1e30, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("max age 2^64", b'{"maxAge": 18446744073709551616, "phoneNumber": "+4474"}'),
        Hostile("max age negative", b'{"maxAge": -1, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("max age fraction", b'{"maxAge": 0.5, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("max age bool", b'{"maxAge": true, "phoneNumber": "' + NUMBER.encode() + b'"}'),
        Hostile("duplicate keys", b'{"phoneNumber": "' + NUMBER.encode() + b'", "phoneNumber": 1}'),
        Hostile("far future", signal % (NUMBER.encode(), b"9999-12-31T23:59:59Z")),
        Hostile("year one", signal % (NUMBER.encode(), b"0001-01-01T00:00:00+14:00")),
        Hostile("no zone", signal % (NUMBER.encode(), b"2024-02-30T00:00:00")),
        Hostile(
            "time as number",
            b'{"kind": "sim_swap", "msisdn": "+447420000001", "occurred_at": 1e308}',
        ),
        Hostile(
            "call forwarding junk",
            b'{"kind": "call_forwarding", "msisdn": "+447420000001", "occurred_at": '
            b'"2024-01-01T00:00:00Z", "service": "cfu", "active": "yes", "forwarded_to": 7}',
        ),
        Hostile(
            "subscription junk",
            b'{"protocol": "HTTP", "sink": "javascript:alert(1)", "types": "x", '
            b'"config": {"subscriptionDetail": {"phoneNumber": "' + NUMBER.encode() + b'"}, '
            b'"subscriptionExpireTime": "9999-99-99", "subscriptionMaxEvents": -5}}',
        ),
        Hostile(
            "webhook urls",
            b'{"url": "https://[::1", "event_types": ["otp.held"], "description": "'
            + b"d" * 100_000
            + b'"}',
        ),
        Hostile("webhook port", b'{"url": "https://example.com:99999/x"}'),
        Hostile("empty", b""),
        Hostile("whitespace", b" \t\r\n "),
        Hostile("binary", bytes(range(256))),
        Hostile("json as text", b'{"reason": "x"}', "text/plain"),
        Hostile("no content type", b'{"reason": "x"}', None),
        Hostile(
            "broken multipart",
            b"--x\r\nContent-Disposition: form-data\r\n",
            "multipart/form-data; boundary=x",
        ),
        Hostile("form bad escapes", b"grant_type=client_credentials&scope=%zz%ff", FORM),
        Hostile("form invalid utf-8", b"grant_type=%ff%fe&client_id=%c0%af", FORM),
        Hostile("form repeated", b"grant_type=client_credentials&grant_type=password", FORM),
        Hostile("form huge", b"grant_type=client_credentials&scope=" + b"a" * 2_000_000, FORM),
        Hostile("form in json", b"grant_type=client_credentials", JSON),
    ]


QUERIES = [
    "",
    "?limit=99999999999999999999999",
    "?limit=-5&state=held",
    "?limit=1e3",
    "?limit=" + "9" * 5000,
    "?since=not-a-time&until=9999-99-99",
    "?since=2024-01-01T00:00:00",
    "?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59-23:59",
    "?after=%00&state=%ff",
    "?destination=" + "9" * 3000,
    "?state=held&state=released&account=%E2%80%AE",
    "?tenant=paybank&account=' OR 1=1 --",
]
PATH_VALUES = [
    "x" * 1500,
    "%00",
    "%2e%2e",
    "..%2f..%2fetc",
    "%F0%9F%98%80",
    "%ff%fe",
    "' OR 1=1 --",
    "-1",
    "99999999999999999999999999",
]
_PARAM = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True, slots=True)
class Route:
    listener: str  # "operator" or "tenant"
    method: str
    template: str  # with {param} placeholders


@dataclass(frozen=True, slots=True)
class HostileRequest:
    route: Route
    path: str
    query: str
    hostile: Hostile


class HostileRequests:
    """Route x input pairs in a shuffled order, endlessly; ``known_ids`` fills path values
    with real ids half the time, so handlers run past their look-up."""

    def __init__(self, routes: list[Route], known_ids: list[str], rng: random.Random) -> None:
        self.routes = routes
        self.known_ids = known_ids
        self.rng = rng
        self.bodies = _bodies()

    def __iter__(self) -> Iterator[HostileRequest]:
        while True:
            pairs = list(itertools.product(self.routes, self.bodies))
            self.rng.shuffle(pairs)
            for route, hostile in pairs:
                yield self._request(route, hostile)

    def _request(self, route: Route, hostile: Hostile) -> HostileRequest:
        rng = self.rng
        values = self.known_ids if self.known_ids and rng.random() < 0.5 else PATH_VALUES
        path = _PARAM.sub(lambda _: rng.choice(values), route.template)
        query = rng.choice(QUERIES) if route.method == "GET" or rng.random() < 0.2 else ""
        return HostileRequest(route, path, query, hostile)


def routes_of(listener: str, document: dict) -> list[Route]:
    return [
        Route(listener, method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    ]
