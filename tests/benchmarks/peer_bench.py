"""Peer facts' cost: pulled decisions against a real peer gateway, cached ones, clean traffic.

    python -m tests.benchmarks.peer_bench [--pulls 2000] [--rate 200] [--clean 20000]

The peer is a second otpgate process on this machine (its tenant, OAuth2 client
credentials, signals over HTTP); the home gateway, the SMSC simulators and the load run in
this process. Figures, each against a baseline measured in the same run:

1. added latency of a pulled decision: submit_sm -> submit_sm_resp of OTPs to the peer's
   (uncached, distinct) numbers at ``--rate``/s, against OTPs to home numbers with a local
   SIM change at the same rate (both classified, both delivered);
2. a decision from the cache against one from the local index (same facts, same text);
3. clean traffic (non-OTP, home numbers) throughput with a peer configured against without.

Prints figures and ratios; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.app import Gateway
from gateway.config_reader import Section
from gateway.logs import configure_logging
from gateway.peers.answers import PeerFacts
from gateway.peers.config import parse_peers
from gateway.peers.lookup import PeerLookups
from gateway.signals.model import parse_signal
from gateway.signals.risk_index import RiskIndex
from gateway.traffic.decider import Decider, PolicyHolder
from policies.engine import CALL_FORWARDING, SIM_SWAP
from policies.policy_file import load_default_policy
from tests.integration.harness import (
    PASSWORD,
    account,
    gateway_config,
    route,
    running_gateway,
    running_simulator,
)
from tests.integration.process import GatewayProcess

from .loadgen import percentile, run_load, submit_template

OTP = b"Your PayBank verification code is 482913. Never share it."
CLEAN_TEXT = b"Your statement is ready"
PEER_BASE = 4915120000000  # +49151 2000 0000 onwards: the peer's numbers
HOME_BASE = 447400200000
DAY = 86400.0


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def start_peer(directory: Path, smsc_port: int, pulls: int) -> tuple[GatewayProcess, str]:
    peer = GatewayProcess(
        directory,
        smsc_port,
        extra_toml="""
[[tenants]]
name = "paybank"
camara = true
camara_quota_per_minute = 10000000
""",
    )
    await peer.start()
    # The same facts as the home numbers of the baseline: a SIM change 3 days ago, so both
    # decisions are the same rule (warn-sim-swap-this-week, delivered, logged, audited).
    occurred = _iso(time.time() - 3 * DAY)
    signals = [
        {"kind": "sim_swap", "msisdn": f"+{PEER_BASE + i}", "occurred_at": occurred}
        for i in range(pulls)
    ]
    status, body = await peer.api("POST", "/v1/signals", signals)
    assert status in (200, 202), body
    # A relation with every number it will be asked about: its own traffic to them.
    templates = [
        submit_template(CLEAN_TEXT, str(PEER_BASE + i), registered_delivery=0) for i in range(pulls)
    ]
    await run_load(
        "127.0.0.1",
        peer.smpp_port,
        system_id="bank",
        password=PASSWORD,
        count=len(templates),
        binds=1,
        window=50,
        templates=templates,
        receipts=False,
    )
    status, body = await peer.api("POST", "/v1/tenants/paybank/keys")
    assert status in (200, 201), body
    return peer, body["key"]


def peer_configs(directory: Path, port: int, key: str) -> Any:
    secret = directory / "peer.secret"
    secret.write_text(key)
    root = Section(
        "<bench>",
        "",
        {
            "camara_peers": [
                {
                    "name": "opb",
                    "base_url": f"http://127.0.0.1:{port}",
                    "client_id": key[:13],
                    "client_secret_file": str(secret),
                    "prefixes": ["+49151"],
                    "timeout_ms": 1000,
                    "rate_per_s": 5000,
                    "burst": 500,
                }
            ]
        },
    )
    peers = parse_peers(root.tables("camara_peers"), {})
    root.check()
    return peers


def _time_calls(home: Gateway) -> list[float]:
    """The peer client's own time per pull (HTTP round trips), recorded beside the load."""
    assert home.peers is not None
    client = home.peers.clients["opb"]
    ask = client.ask
    times: list[float] = []

    async def timed(msisdn: str, kinds: frozenset[str]) -> PeerFacts:
        started = time.perf_counter()
        try:
            return await ask(msisdn, kinds)
        finally:
            times.append(time.perf_counter() - started)

    client.ask = timed  # type: ignore[method-assign]
    return times


async def pulled_latency(home: Gateway, pulls: int, rate: float) -> tuple[list[float], list[float]]:
    """Latencies of OTPs to home numbers with a local SIM change, then to peer numbers."""
    now = home.clock.now()
    for i in range(pulls):
        home.risk_index.apply(
            parse_signal(
                {
                    "kind": "sim_swap",
                    "msisdn": f"+{HOME_BASE + i}",
                    "occurred_at": _iso(now - 3 * DAY),
                },
                default_region=None,
            )
        )
    results = []
    for base in (HOME_BASE, PEER_BASE):
        templates = [submit_template(OTP, str(base + i), 0) for i in range(pulls)]
        result = await run_load(
            "127.0.0.1",
            home.smpp_port,
            system_id="bank",
            password=PASSWORD,
            count=pulls,
            binds=1,
            rate=rate,
            templates=templates,
            receipts=False,
        )
        assert result.ok == pulls, (result.ok, result.errors)
        results.append(result.latencies_s)
    return results[0], results[1]


def cached_cost(rounds: int = 5, count: int = 20_000) -> tuple[float, float]:
    """Microseconds per decision: from the local index, and from the peer cache (same facts)."""
    now = 1_800_000_000.0
    index = RiskIndex()
    index.apply(
        parse_signal(
            {"kind": "sim_swap", "msisdn": "+447400123123", "occurred_at": _iso(now - 3 * DAY)},
            default_region=None,
        )
    )
    root = Section(
        "<bench>",
        "",
        {
            "camara_peers": [
                {
                    "name": "opb",
                    "base_url": "http://x",
                    "client_id": "c",
                    "client_secret_env": "PATH",
                    "prefixes": ["+49151"],
                }
            ]
        },
    )
    lookups = PeerLookups(parse_peers(root.tables("camara_peers"), {}))
    lookups.cache.put(
        4915112345678,
        PeerFacts(now - 3 * DAY, False),
        {SIM_SWAP, CALL_FORWARDING},
        now,
        1e9,
        1e9,
    )
    decider = Decider(PolicyHolder(load_default_policy()), index, peers=lookups)
    text = OTP.decode()
    best = {"local": float("inf"), "cached": float("inf")}
    for _ in range(rounds):
        for name, number in (("local", "+447400123123"), ("cached", "+4915112345678")):
            decision = decider.decide(
                account="bank", source_addr="PayBank", destination_addr=number, text=text, now=now
            )
            assert decision.lookup is None and decision.verdict.rule == "warn-sim-swap-this-week"
            started = time.perf_counter()
            for _ in range(count):
                decider.decide(
                    account="bank",
                    source_addr="PayBank",
                    destination_addr=number,
                    text=text,
                    now=now,
                )
            best[name] = min(best[name], (time.perf_counter() - started) / count * 1e6)
    return best["local"], best["cached"]


async def clean_throughput(home: Gateway, count: int, rounds: int) -> tuple[float, float]:
    """Non-OTPs to home numbers, messages a second, best of ``rounds``: the same gateway with
    its peer configured and with the decider's peers taken away (so one gateway's history,
    database sizes and place in the process do not count), the order alternating."""
    assert home.decider is not None
    template = submit_template(CLEAN_TEXT, "447400999999", 0)
    lookups = home.decider.peers
    best = {"with": 0.0, "without": 0.0}
    for index in range(rounds):
        order = ("with", "without") if index % 2 == 0 else ("without", "with")
        for name in order:
            home.decider.peers = lookups if name == "with" else None
            result = await run_load(
                "127.0.0.1",
                home.smpp_port,
                system_id="bank",
                password=PASSWORD,
                count=count,
                window=90,
                template=template,
                receipts=False,
            )
            assert result.ok == count, result.errors
            best[name] = max(best[name], count / result.elapsed_s)
    home.decider.peers = lookups
    return best["with"], best["without"]


async def main_async(args: argparse.Namespace) -> None:
    configure_logging(args.log_level, "json")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "peer").mkdir()
        async with running_simulator(receipt_delay_s=3600) as smsc:
            peer, key = await start_peer(directory / "peer", smsc.port, args.pulls)
            try:
                peers = peer_configs(directory, peer.tenant_port, key)
                base = gateway_config(
                    directory / "home", (route("main", smsc.port),), (account("bank"),)
                )
                async with running_gateway(replace(base, camara_peers=peers)) as home:
                    assert home.peers is not None
                    client = home.peers.clients["opb"]
                    while client.token_valid_s <= 0:
                        await asyncio.sleep(0.05)
                    asked = _time_calls(home)
                    local, pulled = await pulled_latency(home, args.pulls, args.rate)
                    stats = home.peers.stats
                    print(
                        f"pulled decisions: {args.pulls} at {args.rate:.0f}/s, peer calls ok "
                        f"{stats.calls[('opb', 'ok')]}, failed {stats.calls[('opb', 'failed')]}"
                    )
                    for q in (50, 99):
                        lp = percentile(local, q / 100) * 1000
                        pp = percentile(pulled, q / 100) * 1000
                        print(
                            f"  p{q}: local {lp:.2f} ms, pulled {pp:.2f} ms, "
                            f"added {pp - lp:.2f} ms (ratio {pp / lp:.2f})"
                        )
                    print(
                        f"  the peer's answer alone (both calls, in the home process): "
                        f"p50 {percentile(asked, 0.5) * 1000:.2f} ms, "
                        f"p99 {percentile(asked, 0.99) * 1000:.2f} ms"
                    )
                    with_peer, no_peer = await clean_throughput(home, args.clean, args.rounds)
                    print(
                        f"clean traffic: with a peer {with_peer:,.0f}/s, without "
                        f"{no_peer:,.0f}/s, ratio {with_peer / no_peer:.3f} "
                        f"(best of {args.rounds}, {args.clean} messages each)"
                    )
            finally:
                peer.stop()
    local_us, cached_us = cached_cost()
    print(
        f"decision cost: local index {local_us:.2f} us, peer cache {cached_us:.2f} us, "
        f"added {cached_us - local_us:.2f} us (ratio {cached_us / local_us:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--clean", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log-level", default="warning", help="of the home gateway")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
