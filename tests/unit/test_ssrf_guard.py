"""The SSRF guard: which URLs a tenant may register, and why the others are refused.

No sockets: literal addresses need no resolution, and host names resolve through a fake
``getaddrinfo`` on the running loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

import pytest

from gateway.webhooks.ssrf import Target, UnsafeTarget, resolve_and_vet

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


class FakeDns:
    """Answers the names it was given, counts the questions, and refuses the rest."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in self.answers[host]
        ]


@pytest.fixture
async def dns(monkeypatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake.getaddrinfo)
    return fake


# (address in the URL, words the refusal must name)
FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("[::1]", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("[fe80::1]", "link-local"),
    ("[fe80::1%25eth0]", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.255", "carrier-grade NAT"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("0.0.0.0", "'this' network"),
    ("0.1.2.3", "'this' network"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("[fc00::1]", "unique local"),
    ("[fd12:3456::1]", "unique local"),
    ("[::]", "unspecified"),
    ("[::ffff:127.0.0.1]", "127.0.0.1 is a loopback"),  # the mapped address is vetted too
    ("[::ffff:10.0.0.1]", "10.0.0.1 is a private"),
    ("[::ffff:8.8.8.8]", "IPv4-mapped"),  # and the mapped form is refused whatever it maps
    # IPv4-compatible and IPv4-translated forms are vetted by what they embed, then refused.
    ("[::127.0.0.1]", "127.0.0.1 is a loopback"),
    ("[::169.254.169.254]", "169.254.169.254 is a link-local"),
    ("[::8.8.8.8]", "IPv4-compatible"),
    ("[::ffff:0:a9fe:a9fe]", "169.254.169.254 is a link-local"),
    ("[::ffff:0:7f00:1]", "127.0.0.1 is a loopback"),
    ("[::ffff:0:808:808]", "IPv4-translated"),
    ("[64:ff9b::7f00:1]", "127.0.0.1 is a loopback"),
    ("[64:ff9b::a00:1]", "10.0.0.1 is a private"),
    ("[64:ff9b::808:808]", "NAT64"),
    ("[2002:7f00:1::1]", "127.0.0.1 is a loopback"),  # 6to4 wrapping 127.0.0.1
    ("[fec0::1]", "site-local"),
    ("[2001::1]", "not a globally reachable"),  # Teredo, caught by the stdlib's registry
    ("192.0.2.1", "documentation"),
    ("[2001:db8::1]", "documentation"),
]


@pytest.mark.parametrize(("host", "reason"), FORBIDDEN, ids=[h for h, _ in FORBIDDEN])
async def test_a_forbidden_literal_address_is_refused_naming_the_rule(host, reason, dns) -> None:
    with pytest.raises(UnsafeTarget, match=re.escape(reason)):
        await resolve_and_vet(f"https://{host}/hook")
    assert dns.asked == []  # a literal is vetted as it stands


PUBLIC = ["8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
          "198.17.255.255", "198.20.0.1", "[2606:4700:4700::1111]"]  # fmt: skip


@pytest.mark.parametrize("host", PUBLIC)
async def test_a_public_literal_address_passes(host, dns) -> None:
    target = await resolve_and_vet(f"https://{host}/hook")
    assert target.address == host.strip("[]")


async def test_a_name_that_resolves_to_loopback_is_refused(dns) -> None:
    dns.answers["hooks.example.com"] = ["127.0.0.1"]
    with pytest.raises(UnsafeTarget, match=re.escape("127.0.0.1 is a loopback address")):
        await resolve_and_vet("https://hooks.example.com/hook")


async def test_one_bad_address_among_good_ones_refuses_the_name(dns) -> None:
    # The client may connect to any of them, so all of them must pass.
    dns.answers["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1::1", "10.0.0.7"]
    with pytest.raises(UnsafeTarget, match=re.escape("10.0.0.7 is a private address")):
        await resolve_and_vet("https://hooks.example.com/hook")


async def test_a_name_is_resolved_once_and_every_address_is_kept(dns) -> None:
    dns.answers["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]
    target = await resolve_and_vet("https://Hooks.Example.COM:8443/v1/hook?tenant=a#frag")
    assert dns.asked == ["hooks.example.com"]
    assert target == Target(
        "https",
        "hooks.example.com",
        8443,
        "/v1/hook?tenant=a",
        "93.184.216.34",
        ("93.184.216.34", "2606:2800:220:1::1"),
    )


async def test_an_international_name_is_resolved_and_pinned_in_its_ascii_form(dns) -> None:
    dns.answers["xn--bcher-kva.example"] = ["93.184.216.34"]
    target = await resolve_and_vet("https://bücher.example/hook")
    assert target.host == "xn--bcher-kva.example"


async def test_a_name_that_does_not_resolve_is_refused(dns) -> None:
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        await resolve_and_vet("https://nowhere.example.com/hook")


async def test_a_name_the_idna_codec_refuses_is_refused_not_raised(dns) -> None:
    with pytest.raises(UnsafeTarget, match="does not resolve"):
        await resolve_and_vet(f"https://{'a' * 64}.example.com/hook")


async def test_the_allow_list_lets_127_0_0_1_through(dns) -> None:
    target = await resolve_and_vet(
        "http://127.0.0.1:8080/hook",
        allow_http_hosts=frozenset({"127.0.0.1"}),
        allow_networks=LOCAL,
    )
    assert (target.scheme, target.host, target.port, target.address) == (
        "http",
        "127.0.0.1",
        8080,
        "127.0.0.1",
    )


async def test_the_allow_list_lets_a_name_resolving_to_127_0_0_1_through(dns) -> None:
    dns.answers["receiver.test"] = ["127.0.0.1"]
    target = await resolve_and_vet("https://receiver.test/hook", allow_networks=LOCAL)
    assert target.addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.2/hook", "loopback"),  # allowed is 127.0.0.1/32, not 127/8
        ("https://[::ffff:127.0.0.1]/hook", "IPv4-mapped"),  # allowed inside, not the form
        ("https://[::1]/hook", "loopback"),
    ],
)
async def test_the_allow_list_allows_only_what_it_names(url, reason, dns) -> None:
    with pytest.raises(UnsafeTarget, match=re.escape(reason)):
        await resolve_and_vet(url, allow_networks=LOCAL)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/hook", "https only"),
        ("http://hooks.example.com/hook", "https only"),
        ("ftp://8.8.8.8/hook", "https only"),
        ("//8.8.8.8/hook", "https only"),
        ("8.8.8.8/hook", "no host"),
        ("https:///hook", "no host"),
        ("https://user:pass@8.8.8.8/hook", "credentials"),
        ("https://user@8.8.8.8/hook", "credentials"),
        ("https://127.0.0.1%2f@8.8.8.8/hook", "credentials"),
        ("https://8.8.8.8:0/hook", "port 0"),
        ("https://8.8.8.8:70000/hook", "not a URL"),
        ("https://[::1/hook", "not a URL"),
    ],
)
async def test_a_url_of_the_wrong_form_is_refused(url, reason, dns) -> None:
    with pytest.raises(UnsafeTarget, match=re.escape(reason)):
        await resolve_and_vet(url)
    assert dns.asked == []


async def test_http_only_for_the_hosts_allowed_to_use_it(dns) -> None:
    dns.answers["hooks.example.com"] = ["93.184.216.34"]
    allowed = frozenset({"hooks.example.com"})
    target = await resolve_and_vet("http://hooks.example.com/hook", allow_http_hosts=allowed)
    assert (target.scheme, target.port) == ("http", 80)
    with pytest.raises(UnsafeTarget, match="https only"):
        await resolve_and_vet("http://other.example.com/hook", allow_http_hosts=allowed)


async def test_an_allowed_http_host_is_still_vetted(dns) -> None:
    with pytest.raises(UnsafeTarget, match="loopback"):
        await resolve_and_vet("http://127.0.0.1/hook", allow_http_hosts=frozenset({"127.0.0.1"}))


async def test_legacy_numeric_forms_are_vetted_by_what_they_resolve_to(dns) -> None:
    # getaddrinfo reads "127.1" and "2130706433" as 127.0.0.1; so does the vetting.
    dns.answers["127.1"] = ["127.0.0.1"]
    dns.answers["2130706433"] = ["127.0.0.1"]
    for url in ("https://127.1/hook", "https://2130706433/hook"):
        with pytest.raises(UnsafeTarget, match="loopback"):
            await resolve_and_vet(url)
