"""The kill soak's course: lives of the gateway ended by SIGKILL under load, then the
settling (every hold released, every receipt in) and the verdict on DESIGN.md's rules."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from smpp_adapters.simulator import SmscSimulator

from ..integration.harness import until
from ..integration.mosquitto import MosquittoBroker
from ..integration.process import GatewayProcess
from .ledger import (
    OTP_HELD,
    Delivery,
    Ledger,
    Part,
    Verdict,
    duplicates,
    first_released_at,
    missing_receipts,
    not_held,
    unaccounted,
    unexpected,
)
from .memory import RssTracker
from .traffic import Numbers, SoakTraffic, swap_before_run

PREFIX = "soak"
SWAPPED_PER_LIFE = 400  # numbers swapped before the run, per life of the gateway
ACKS_BEFORE_KILL = (30, 250)  # a kill comes after a random number of acknowledged submits
LOAD_TIMEOUT_S = 60.0  # the load must reach its next kill within this
SETTLE_TIMEOUT_S = 60.0


def soak_toml(policy_path: str, broker: MosquittoBroker) -> str:
    # GatewayProcess's file ends inside [holds]: these two keys belong to it. Open holds pile
    # up between releases; the default caps would turn later holds into deliveries.
    return f"""max_per_account = 1000000
max_total = 1000000

[policy]
file = "{policy_path}"

[smpp]
reassembly_timeout_s = 1

[signals.mqtt]
host = "{broker.host}"
port = {broker.port}
prefix = "{PREFIX}"
client_id = "otpgate-soak"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
"""


class KillSoak:
    def __init__(
        self,
        gateway: GatewayProcess,
        simulator: SmscSimulator,
        broker: MosquittoBroker,
        rng: random.Random,
    ) -> None:
        self.gateway = gateway
        self.simulator = simulator
        self.broker = broker
        self.rng = rng
        self.ledger = Ledger()
        self.numbers = Numbers()
        self.traffic = SoakTraffic(self.ledger, self.numbers, rng)
        self.rss = RssTracker()
        self.restart_s: list[float] = []
        self.phases_s: dict[str, float] = {}

    async def run(self, kills: int) -> None:
        started = time.perf_counter()
        gateway = self.gateway
        await gateway.start()
        await swap_before_run(gateway, self.numbers, SWAPPED_PER_LIFE * (kills + 1))
        await self.traffic.connect(gateway.smpp_port)
        self.traffic.start(gateway, self.broker, PREFIX)
        for _ in range(kills):
            await self._load_until_next_kill()
            self.rss.sample(self._pid())
            killed = time.time()
            gateway.kill()
            self.traffic.disconnect()
            await gateway.start()
            self.ledger.kills.append((killed, time.time()))
            self.restart_s.append(time.time() - killed)
            await self._check_holds_kept()
            await self.traffic.connect(gateway.smpp_port)
        await self._load_until_next_kill()  # the last life gets its load too
        await self.traffic.stop()
        self.rss.sample(self._pid())
        self.phases_s["lives under load"] = time.perf_counter() - started

    def _pid(self) -> int:
        assert self.gateway.process is not None
        return self.gateway.process.pid

    async def _load_until_next_kill(self) -> None:
        target = len(self.ledger.acked) + self.rng.randint(*ACKS_BEFORE_KILL)
        loaded = await until(lambda: len(self.ledger.acked) >= target, LOAD_TIMEOUT_S)
        assert loaded, f"the load stalled at {len(self.ledger.acked)} acknowledged submits"

    async def _check_holds_kept(self) -> None:
        """Right after a restart: every hold ever listed, and every held OTP acknowledged
        before the kill, is on the list again."""
        listed = {h["id"] for h in await self.gateway.all_holds()}
        self.ledger.lost_holds += sorted(self.ledger.holds_seen - listed)
        # A held single-part OTP's hold id is the id its ESME_ROK carried.
        acked_held = {p.message_id for p in self.ledger.acked if p.kind == OTP_HELD}
        self.ledger.lost_holds += sorted(str(i) for i in acked_held - listed)
        self.ledger.holds_seen |= acked_held & listed
        self.ledger.holds_checked += len(self.ledger.holds_seen & listed)
        self.ledger.holds_seen |= listed

    # -- settling ----------------------------------------------------------------------------

    async def settle(self) -> None:
        """Release what is still held, then wait until everything acknowledged is accounted
        for, every receipt is in and every published signal reached the index."""
        started = time.perf_counter()
        await _until_async(self._all_accounted, SETTLE_TIMEOUT_S)
        await _until_async(self._all_receipted, SETTLE_TIMEOUT_S)
        self.phases_s["settling"] = time.perf_counter() - started
        await self._check_signals()
        self.phases_s["signal checks"] = time.perf_counter() - started - self.phases_s["settling"]

    async def _release_all(self) -> None:
        gateway = self.gateway
        while True:
            _, page = await gateway.api("GET", "/v1/holds?state=held&limit=500")
            if not page["holds"]:
                return
            for hold in page["holds"]:
                status, _ = await gateway.api("POST", f"/v1/holds/{hold['id']}/release")
                self.ledger.hold_actions[f"final release {status}"] += 1

    def _deliveries(self) -> list[Delivery]:
        return [
            Delivery(r.destination_addr, bytes(r.short_message), r.received_at)
            for r in self.simulator.records
            if r.message_id is not None
        ]

    async def _all_accounted(self) -> bool:
        """Every acknowledged part is delivered, or ended undelivered in a hold, or its
        failure receipt came (the verdict judges that one): nothing left to wait for."""
        # Fragments of messages cut by a kill become holds only at their reassembly timeout:
        # keep releasing until nothing is held any more.
        await self._release_all()
        delivered = {d.key for d in self._deliveries()}
        self.traffic.collect_receipts()
        receipts = self.ledger.receipts
        left = unaccounted(self.ledger, delivered, await self.gateway.all_holds())
        return all(receipts.get(str(p.message_id), "DELIVRD") != "DELIVRD" for p in left)

    def dump(self, path: Path) -> None:
        """Everything the verdict was drawn from, for the post-mortem of a failed run."""
        ledger = self.ledger
        record = {
            "kills": ledger.kills,
            "parts": [
                {
                    **{k: getattr(p, k) for k in Part.__slots__},
                    "short_message": p.short_message.hex(),
                }
                for p in ledger.parts
            ],
            "deliveries": [
                {"destination": d.destination, "short_message": d.short_message.hex(), "at": d.at}
                for d in self._deliveries()
            ],
            "receipts": ledger.receipts,
            "lost_holds": ledger.lost_holds,
            "signals_missing": ledger.signals_missing,
        }
        path.write_text(json.dumps(record, indent=1))

    async def _all_receipted(self) -> bool:
        """Every acknowledged submit has its receipt."""
        self.traffic.collect_receipts()
        return not missing_receipts(self.ledger)

    async def _check_signals(self) -> None:
        """Every signal the broker acknowledged reached the gateway's index, kills or not."""
        missing = list(self.ledger.signals_published)

        async def check() -> None:
            still = []
            for number in missing:
                body = {"msisdn": "+" + number}
                _, answer = await self.gateway.api("POST", "/v1/subscribers/risk", body)
                if not answer.get("sim_swap"):
                    still.append(number)
            missing[:] = still

        async def all_arrived() -> bool:
            await check()
            return not missing

        await _until_async(all_arrived, SETTLE_TIMEOUT_S)
        self.ledger.signals_missing = missing

    # -- the verdict -------------------------------------------------------------------------

    async def verdict(self) -> Verdict:
        ledger = self.ledger
        holds = await self.gateway.all_holds()
        deliveries = self._deliveries()
        delivered = {d.key for d in deliveries}
        released_at = await self._released_at(holds, deliveries)
        dupes = duplicates(ledger, deliveries, holds, released_at)
        acked = ledger.acked
        verdict = Verdict()
        verdict.counts = {
            "kills": len(ledger.kills),
            "restart to ready (s)": _spread(self.restart_s),
            "phases (s)": {k: round(v, 1) for k, v in self.phases_s.items()},
            "messages": ledger.messages,
            "submits sent": len(ledger.parts),
            "acknowledged ESME_ROK": len(acked),
            "refused (not ESME_ROK)": sum(1 for p in ledger.parts if p.status not in (None, 0)),
            "unanswered (gateway died first)": sum(1 for p in ledger.parts if p.status is None),
            "acknowledged by kind": _by_kind(acked),
            "delivered to the simulator": len(deliveries),
            "acknowledged and delivered": sum(1 for p in acked if p.key in delivered),
            "holds": len(holds),
            "holds found again after restarts": ledger.holds_checked,
            "hold states": _states(holds),
            "hold actions": dict(ledger.hold_actions),
            "resent after a crash (allowed)": dupes.resent_after_crash,
            "receipts at the ESMEs": ledger.receipts_total,
            "receipt stats": dict(Counter(ledger.receipts.values())),
            "signals published (QoS 1)": len(ledger.signals_published),
            "gateway memory": self.rss.summary(),
        }
        verdict.add(
            "an acknowledged submit is delivered or held", unaccounted(ledger, delivered, holds)
        )
        verdict.add("no hold is lost across a kill", ledger.lost_holds)
        verdict.add("an acknowledged OTP to a swapped number is held", not_held(ledger, holds))
        verdict.add("no part is delivered twice (beyond a crash's resend)", dupes.violations)
        verdict.add("nothing reaches the SMSC that no ESME sent", unexpected(ledger, deliveries))
        verdict.add("every acknowledged submit gets its receipt", missing_receipts(ledger))
        verdict.add("every published signal reaches the index", ledger.signals_missing)
        return verdict

    async def _released_at(
        self, holds: list[dict[str, Any]], deliveries: list[Delivery]
    ) -> dict[str, float]:
        """When each hold with a part delivered twice was committed released (its history)."""
        times = Counter(d.key for d in deliveries)
        twice = {destination for (destination, _), n in times.items() if n > 1}
        out = {}
        for hold in holds:
            destination = hold["destination"].lstrip("+")
            if destination in twice:
                _, full = await self.gateway.api("GET", f"/v1/holds/{hold['id']}")
                at = first_released_at(full)
                if at is not None:
                    out[destination] = at
        return out


async def _until_async(predicate: Callable[[], Awaitable[bool]], timeout_s: float) -> bool:
    """``until`` for a predicate that must ask the gateway: polled with a deadline."""
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.25)
    return True


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"median {ordered[len(ordered) // 2]:.2f}, max {ordered[-1]:.2f}"


def _by_kind(parts: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in parts:
        out[part.kind] = out.get(part.kind, 0) + 1
    return out


def _states(holds: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for hold in holds:
        out[hold["state"]] = out.get(hold["state"], 0) + 1
    return out
