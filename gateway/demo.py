"""``otpgate demo``: a day in the life, in under a minute, on this machine alone.

A gateway on embedded defaults with its SMSC simulator, a local webhook receiver that
verifies every signature, and (when mosquitto is installed) a broker carrying the signals.
Thousands of ordinary messages and OTPs pass; then the seed story: a SIM swap, and minutes
later an OTP for a 40,000-yuan transfer out of a fund account, which is held; the bank hears
of it through a signed webhook and releases it after calling its customer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from smpp_adapters import events as ev
from smpp_adapters.client import open_bind
from smpp_adapters.constants import CommandId
from smpp_adapters.pdu import Pdu
from smpp_adapters.session import SessionConfig
from smpp_adapters.transport import SmppConnection

from .config import (
    AccountConfig,
    ApiConfig,
    Config,
    MqttConfig,
    RouteConfig,
    SignalsConfig,
    SmppConfig,
)
from .config_tenants import TenantConfig, WebhooksConfig
from .passwords import hash_password

VICTIM = "+8613800138000"
SEED_OTP = "您正在从基金账户转出40,000元，验证码 482913，5分钟内有效，请勿泄露给任何人。"
ORDINARY = [
    "Your parcel 7788 is out for delivery today.",
    "Reminder: your dentist appointment is tomorrow at 10:30.",
    "Your March statement is ready in the app.",
]
CLEAN_OTP = "Your PayBank verification code is {code}. Never share it."


@dataclass
class Summary:
    submitted: int = 0
    accepted: int = 0
    delivered_receipts: int = 0
    held: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    released: bool = False
    signals_over: str = "http"
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "delivered_receipts": self.delivered_receipts,
            "held": len(self.held),
            "held_rule": self.held[0]["rule"] if self.held else None,
            "webhooks_verified": [w["type"] for w in self.webhooks],
            "released": self.released,
            "signals_over": self.signals_over,
            "seconds": round(self.seconds, 1),
        }


class _Esme:
    """A transceiver that counts answers and receipts (our own client: no extra threads)."""

    def __init__(self) -> None:
        self.receipts: list[Pdu] = []
        self.connection: SmppConnection | None = None

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        if isinstance(event, ev.DeliverSmReceived):
            self.receipts.append(event.pdu)
            connection.send_response(event.pdu)


def _delivered(receipt: Pdu) -> bool:
    text = receipt.params.get("short_message", b"")
    return isinstance(text, bytes) and b"stat:DELIVRD" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stdout.write(f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stdout.write("\n")
    sys.stdout.flush()


class _Broker:
    """mosquitto on a free port, when it is installed; the signals then travel over MQTT."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.directory = directory

    def start(self) -> bool:
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if binary is None:
            return False
        conf = self.directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


async def run_demo(*, messages: int = 3000, quiet: bool = False) -> Summary:
    from standardwebhooks.webhooks import Webhook as Verifier

    from .app import Gateway

    started = time.perf_counter()
    summary = Summary()
    say = (lambda *a: None) if quiet else print
    directory = Path(tempfile.mkdtemp(prefix="otpgate-demo-"))
    password, operator_key = secrets.token_hex(4), secrets.token_urlsafe(16)

    # A local webhook receiver that verifies what arrives (the bank's side).
    secret_box: dict[str, str] = {}
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        event = Verifier(secret_box["secret"]).verify(body, dict(request.headers))
        summary.webhooks.append(event)
        arrived.set()
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    receiver_port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", receiver_port).start()

    broker = _Broker(directory)
    mqtt = broker.start()
    summary.signals_over = "mqtt" if mqtt else "http"
    config = Config(
        source="<demo>",
        data_dir=directory / "data",
        smpp=SmppConfig(
            host="127.0.0.1",
            port=0,
            accounts=(AccountConfig("bank", hash_password(password), tenant="fundbank"),),
            routes=(RouteConfig(name="simulator", simulator=True),),
        ),
        api=ApiConfig(host="127.0.0.1", port=0, operator_key=operator_key, tenant_port=0),
        signals=SignalsConfig(
            mqtt=MqttConfig(host="127.0.0.1", port=broker.port, client_id="otpgate-demo")
            if mqtt
            else None
        ),
        tenants=(TenantConfig("fundbank"),),
        webhooks=WebhooksConfig(
            allow_http_hosts=frozenset({"127.0.0.1"}),
            allow_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        ),
    )
    config = replace(config, simulator=replace(config.simulator, receipt_delay_s=0.05))
    gateway = Gateway(config)
    await gateway.start()
    try:
        await gateway.wait_upstream()
        say(
            f"otpgate demo: gateway up (SMPP :{gateway.smpp_port}, signals over {summary.signals_over})"
        )
        key, info = await gateway.api_keys.create("fundbank", gateway.clock.now())
        hook_record = await gateway.subscriptions.create(
            "fundbank",
            f"http://127.0.0.1:{receiver_port}/hook",
            ("otp.held", "otp.released"),
            "demo",
            gateway.clock.now(),
        )
        secret_box["secret"] = hook_record.secret

        esme = _Esme()
        assert gateway.smpp_port is not None  # set by start()
        connection = esme.connection = await open_bind(
            "127.0.0.1",
            gateway.smpp_port,
            esme,
            mode="trx",
            system_id="bank",
            password=password,
            config=SessionConfig(
                window=100, enquire_link_interval_s=None, inactivity_timeout_s=None
            ),
        )
        window = asyncio.Semaphore(90)

        async def submit(destination: str, text: str, source: str = "FUNDBANK") -> Pdu:
            async with window:
                data_coding, body = (
                    (0, text.encode()) if text.isascii() else (8, text.encode("utf-16-be"))
                )
                pdu = Pdu(
                    CommandId.SUBMIT_SM,
                    {
                        "source_addr_ton": 5,
                        "source_addr": source,
                        "dest_addr_ton": 1,
                        "dest_addr_npi": 1,
                        "destination_addr": destination.lstrip("+"),
                        "data_coding": data_coding,
                        "short_message": body,
                        "registered_delivery": 1,
                    },
                )
                response = await connection.request(pdu)
                if response is None:
                    raise RuntimeError("the gateway did not answer a submit_sm")
                summary.submitted += 1
                summary.accepted += response.command_status == 0
                return response

        say("a day of traffic:")
        batch = 200
        for start in range(0, messages, batch):
            jobs = []
            for i in range(start, min(start + batch, messages)):
                number = f"+86139{i:08d}"
                text = CLEAN_OTP.format(code=100000 + i) if i % 10 == 0 else ORDINARY[i % 3]
                jobs.append(submit(number, text))
            await asyncio.gather(*jobs)
            if not quiet:
                _progress("ordinary messages and OTPs", min(start + batch, messages), messages)

        say("the seed story:")
        swap = {
            "kind": "sim_swap",
            "msisdn": VICTIM,
            "occurred_at": datetime.fromtimestamp(time.time() - 300, UTC).isoformat(),
            "reason": "swap",
            "source": "crm",
        }
        if mqtt:
            import aiomqtt

            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="demo-hlr") as feed:
                await feed.publish("otpgate/signals/sim_swap", json.dumps(swap), qos=1)
            for _ in range(200):
                if gateway.risk_index.facts(VICTIM, gateway.clock.now()).sim_swap_age_s:
                    break
                await asyncio.sleep(0.02)
        else:
            await gateway.signal_ingest.ingest([swap], "http")
        say(f"  09:55  the SIM of {VICTIM} is swapped (a fraudster's new SIM)")
        response = await submit(VICTIM, SEED_OTP)
        held_id = str(response.params.get("message_id", ""))
        say("  10:00  the fund platform sends the OTP for a 40,000-yuan transfer")
        summary.held = [
            {"id": r.id, "rule": r.rule, "reasons": list(r.reasons)}
            for r in gateway.holds.open.values()
        ]
        if summary.held:
            held = summary.held[0]
            reason = held["reasons"][0] if held["reasons"] else {}
            say(
                f"         HELD by rule {held['rule']}: SIM swap {reason.get('age_s', 0):.0f} s before"
            )
        await asyncio.wait_for(arrived.wait(), 10)
        event = summary.webhooks[0]
        say(f"         webhook {event['type']} arrived, signature verified; the code is not in it")
        arrived.clear()
        say("  10:03  the bank asks its customer on a channel the thief does not hold (its app,")
        say("         a branch; not a call to the swapped number, which now rings the thief);")
        say("         the customer confirms the transfer, so the bank releases the OTP:")
        await gateway.holds.release(held_id, "tenant:fundbank", "customer confirmed by phone")
        await asyncio.wait_for(arrived.wait(), 10)
        summary.released = any(w["type"] == "otp.released" for w in summary.webhooks)
        say("         webhook otp.released arrived, signature verified")
        deadline = time.monotonic() + 10
        while len(esme.receipts) < summary.accepted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        summary.delivered_receipts = sum(_delivered(r) for r in esme.receipts)
        esme.connection.abort()
        del key, info
    finally:
        await gateway.stop()
        await runner.cleanup()
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    say(
        f"{summary.accepted} of {summary.submitted} messages accepted, "
        f"{summary.delivered_receipts} delivery receipts back, {len(summary.held)} held, "
        f"{len(summary.webhooks)} signed webhooks verified, in {summary.seconds:.1f} s"
    )
    say("summary: " + json.dumps(summary.to_json()))
    return summary


def main(short: bool) -> int:
    from .logs import configure_logging

    configure_logging("error", "console")
    summary = asyncio.run(run_demo(messages=300 if short else 3000))
    ok = summary.released and len(summary.held) == 1 and summary.accepted == summary.submitted
    return 0 if ok else 1
