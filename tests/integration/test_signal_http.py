"""Signals over HTTP into the store and the index: per-item answers, rejections, restart, purge."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest

from gateway.config import RetentionConfig, SignalsConfig
from gateway.signals.retention import purge_signals

from .harness import OPERATOR_KEY, gateway_config, route, running_gateway, running_simulator

pytestmark = pytest.mark.asyncio

AUTH = {"Authorization": f"Bearer {OPERATOR_KEY}"}
NUMBER = "+447400123123"


def at(seconds_ago: float, now: float) -> str:
    return datetime.fromtimestamp(now - seconds_ago, UTC).isoformat()


async def post(gateway, path: str, body, *, raw: bytes | None = None, headers=AUTH):
    url = f"http://127.0.0.1:{gateway.api_port}{path}"
    async with aiohttp.ClientSession() as http:
        data = raw if raw is not None else None
        kwargs = {"data": data} if raw is not None else {"json": body}
        async with http.post(url, headers=headers, **kwargs) as response:
            return response.status, await response.json()


def config(tmp_path, port, **signals):
    base = gateway_config(tmp_path, (route("main", port),))
    return replace(base, signals=SignalsConfig(default_region="GB", **signals))


async def test_batch_gets_an_answer_per_item(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        now = gw.clock.now()
        swap = {"kind": "sim_swap", "msisdn": NUMBER, "occurred_at": at(60, now), "event_id": "e-1"}
        batch = [
            swap,
            {**swap},  # the same event id again, in the same batch
            {"kind": "sim_swap", "msisdn": "07400 123124", "occurred_at": at(30, now)},
            {"kind": "teleport", "msisdn": NUMBER, "occurred_at": at(1, now)},
            {"kind": "sim_swap", "occurred_at": at(1, now)},
            {"kind": "sim_swap", "msisdn": "+44123", "occurred_at": at(1, now)},
            {"kind": "sim_swap", "msisdn": NUMBER, "occurred_at": "2026-11-25T10:00:00"},
            {
                "kind": "call_forwarding",
                "msisdn": NUMBER,
                "occurred_at": at(1, now),
                "service": "cfu",
                "active": "yes",
            },
            "not an object",
        ]
        status, body = await post(gw, "/v1/signals", batch)
        assert status == 200
        statuses = [r["status"] for r in body["results"]]
        assert statuses == ["accepted", "duplicate", "accepted"] + ["rejected"] * 6
        assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 6)
        reasons = [r["reason"] for r in body["results"][3:]]
        assert "unknown kind 'teleport'" in reasons[0]
        assert reasons[1].startswith("msisdn")
        assert reasons[2].startswith("msisdn")
        assert "zone" in reasons[3]
        assert reasons[4].startswith("active")
        assert "object" in reasons[5]

        # A repeat of the whole batch later: the known ids are duplicates, nothing doubles.
        status, again = await post(gw, "/v1/signals", batch[:3])
        assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
        assert gw.risk_index.facts(NUMBER, gw.clock.now()).sim_swap_age_s is not None
        assert gw.risk_index.facts("+447400123124", gw.clock.now()).sim_swap_age_s is not None

    rows = sqlite3.connect(tmp_path / "signals.sqlite").execute("SELECT count(*) FROM signals")
    assert rows.fetchone()[0] == 2


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b'{"kind": 5, "msisdn": "+447400123123"}', "kind"),
        (
            b'{"kind": "teleport", "msisdn": "+447400123123", "occurred_at": "2026-11-25T10:00:00Z"}',
            "unknown kind",
        ),
        (b'{"kind": "sim_swap", "occurred_at": "2026-11-25T10:00:00Z"}', "msisdn"),
        (
            b'{"kind": "sim_swap", "msisdn": "+99912", "occurred_at": "2026-11-25T10:00:00Z"}',
            "msisdn",
        ),
        (
            b'{"kind": "sim_swap", "msisdn": "+447400123123", "occurred_at": "2026-11-25 10:00"}',
            "occurred_at",
        ),
        (
            b'{"kind": "sim_swap", "msisdn": "+447400123123", "occurred_at": "2026-11-25T10:00:00"}',
            "zone",
        ),
        (b'"just a string"', "expected a signal object"),
        (b"[]", "empty"),
    ],
)
async def test_bad_single_signal_is_422_with_the_reason(tmp_path, raw, reason):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        status, body = await post(gw, "/v1/signals", None, raw=raw)
        assert status == 422
        assert body["code"] == "UNPROCESSABLE_ENTITY"
        assert reason in body["message"]
        assert len(gw.risk_index) == 0
        # The gateway goes on: a good signal right after is accepted.
        good = {"kind": "sim_swap", "msisdn": NUMBER, "occurred_at": at(5, gw.clock.now())}
        status, body = await post(gw, "/v1/signals", good)
        assert (status, body["status"]) == (200, "accepted")


async def test_ingest_needs_the_operator_key(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        signal = {"kind": "sim_swap", "msisdn": NUMBER, "occurred_at": at(5, gw.clock.now())}
        status, _ = await post(gw, "/v1/signals", signal, headers={"Authorization": "Bearer nope"})
        assert status == 401
        assert len(gw.risk_index) == 0


async def test_a_batch_larger_than_the_limit_is_refused_whole(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        signal = {
            "kind": "clearance",
            "msisdn": NUMBER,
            "occurred_at": at(5, gw.clock.now()),
            "scope": "all",
        }
        status, body = await post(gw, "/v1/signals", [signal] * 10_001)
        assert status == 413
        assert "10000" in body["message"]
        assert len(gw.risk_index) == 0


async def test_risk_lookup_returns_facts_and_never_an_imsi(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        now = gw.clock.now()
        batch = [
            {
                "kind": "location_update",
                "msisdn": NUMBER,
                "occurred_at": at(7200, now),
                "serving_mcc_mnc": "234-15",
                "imsi": "234150000000001",
            },
            {
                "kind": "location_update",
                "msisdn": NUMBER,
                "occurred_at": at(600, now),
                "serving_mcc_mnc": "234-15",
                "imsi": "234150000000002",
                "source": "hlr-feed",
            },
            {
                "kind": "call_forwarding",
                "msisdn": NUMBER,
                "occurred_at": at(300, now),
                "service": "cfu",
                "active": True,
                "forwarded_to": "+447700900123",
            },
        ]
        status, body = await post(gw, "/v1/signals", batch)
        assert body["accepted"] == 3
        status, risk = await post(gw, "/v1/subscribers/risk", {"msisdn": "07400123123"})
        assert status == 200
        assert risk["msisdn"] == NUMBER and risk["tracked"] is True
        assert risk["sim_swap"]["reason"] == "imsi_mismatch"
        assert 590 <= risk["sim_swap"]["age_s"] <= 620
        assert risk["call_forwarding"]["unconditional_active"] is True
        assert {s["source"] for s in risk["sources"]} == {"http", "hlr-feed"}
        text = str(risk)
        assert "234150000000001" not in text and "234150000000002" not in text

        status, unknown = await post(gw, "/v1/subscribers/risk", {"msisdn": "+447400999888"})
        assert (status, unknown["tracked"], unknown["sim_swap"]) == (200, False, None)
        status, bad = await post(gw, "/v1/subscribers/risk", {"msisdn": "12"})
        assert status == 422 and bad["message"].startswith("msisdn")


async def test_index_rebuilt_after_restart_equals_the_one_before(tmp_path):
    async with running_simulator() as sim:
        cfg = config(tmp_path, sim.port)
        async with running_gateway(cfg) as gw:
            now = gw.clock.now()
            batch = []
            for i in range(200):
                number = f"+4474001{i:05d}"
                batch += [
                    {
                        "kind": "location_update",
                        "msisdn": number,
                        "occurred_at": at(9000, now),
                        "serving_mcc_mnc": "234-15",
                        "imsi": f"2341500000{i:05d}",
                    },
                    {
                        "kind": "location_update",
                        "msisdn": number,
                        "occurred_at": at(3000, now),
                        "serving_mcc_mnc": "262-01",
                    },
                ]
                if i % 3 == 0:
                    batch.append(
                        {
                            "kind": "sim_swap",
                            "msisdn": number,
                            "occurred_at": at(100 + i, now),
                            "reason": "esim_download",
                        }
                    )
                if i % 5 == 0:
                    batch.append(
                        {
                            "kind": "call_forwarding",
                            "msisdn": number,
                            "occurred_at": at(50, now),
                            "service": "cfu",
                            "active": True,
                            "forwarded_to": "+447700900123",
                        }
                    )
            _, body = await post(gw, "/v1/signals", batch)
            assert body["accepted"] == len(batch)
            before = gw.risk_index
            assert before.risky_count >= 200  # every number travelled UK -> DE too fast
        async with running_gateway(cfg) as again:
            assert again.risk_index == before
            assert len(again.risk_index) == 200


async def test_purge_removes_what_retention_says_and_nothing_else(tmp_path):
    async with running_simulator() as sim, running_gateway(config(tmp_path, sim.port)) as gw:
        now = gw.clock.now()
        hour, day = 3600, 86400
        batch = [
            # Old location with the first IMSI: the row goes, the IMSI stays known.
            {
                "kind": "location_update",
                "msisdn": NUMBER,
                "occurred_at": at(50 * hour, now),
                "serving_mcc_mnc": "234-15",
                "imsi": "234150000000001",
            },
            {
                "kind": "location_update",
                "msisdn": NUMBER,
                "occurred_at": at(47 * hour, now),
                "serving_mcc_mnc": "234-15",
            },
            {
                "kind": "sim_swap",
                "msisdn": NUMBER,
                "occurred_at": at(31 * day, now),
                "event_id": "old-swap",
            },
            {
                "kind": "sim_swap",
                "msisdn": NUMBER,
                "occurred_at": at(29 * day, now),
                "event_id": "kept-swap",
            },
            {
                "kind": "call_forwarding",
                "msisdn": NUMBER,
                "occurred_at": at(40 * day, now),
                "service": "cfu",
                "active": True,
                "forwarded_to": "+447700900123",
            },
        ]
        _, body = await post(gw, "/v1/signals", batch)
        assert body["accepted"] == 5
        report = await purge_signals(
            gw.risk_index, gw.signal_store, RetentionConfig(), gw.clock.now()
        )
        assert (report.location_updates, report.other_signals, report.states_trimmed) == (1, 2, 1)
        db = sqlite3.connect(tmp_path / "signals.sqlite")
        kept = sorted(row[0] for row in db.execute("SELECT kind FROM signals"))
        assert kept == ["location_update", "sim_swap"]
        assert (
            db.execute("SELECT event_id FROM signals WHERE kind = 'sim_swap'").fetchone()[0]
            == "kept-swap"
        )
        # Current state kept: forwarding still active, the first IMSI still known (no false swap).
        facts = gw.risk_index.facts(NUMBER, gw.clock.now())
        assert facts.cf_unconditional_active is True
        # The first IMSI is still known: a new one now is an unannounced swap, not a first sighting.
        follow_up = {
            "kind": "location_update",
            "msisdn": NUMBER,
            "occurred_at": at(10, now),
            "serving_mcc_mnc": "234-15",
            "imsi": "234150000000002",
        }
        await post(gw, "/v1/signals", follow_up)
        facts = gw.risk_index.facts(NUMBER, gw.clock.now())
        assert facts.sim_swap_reason == "imsi_mismatch" and facts.sim_swap_age_s < 60
        # The GTs were never stored.
        records = " ".join(row[0] for row in db.execute("SELECT record FROM signals"))
        assert "vlr_gt" not in records and "msc_gt" not in records
