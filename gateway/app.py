"""The composition root: build every part from the configuration, start them, stop them in order."""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import hmac
from collections.abc import Awaitable
from pathlib import Path

import sqlite_utils
import structlog
from aiohttp import web

from policies.policy_file import Policy

from . import cluster_duties
from .accounts import AccountBook, Lockout
from .api import camara as camara_api
from .api.listeners import serve_http
from .api.operator import build_operator_app
from .api.tenant import build_tenant_app
from .audit import DecisionAudit
from .camara import relations, subscription_terms
from .camara.jwks_fetch import JwksRefresher
from .camara.jwt_tokens import JwtVerifier
from .camara.relations import Relations
from .camara.subscription_terms import SubscriptionTerms
from .camara.tokens import TokenIssuer
from .clock import Clock, SystemClock
from .cluster import ClusterBus
from .cluster_duties import ClusterDuties, offer_receipt
from .config import Config
from .config_reload import apply_reload, policy_of, read_reload, reload_policy
from .counters import TrafficStats
from .erasure import erase_subscriber
from .history import History
from .holds import store as hold_store
from .holds.book import Forwarding, HoldBook, HoldLimits
from .holds.sealing import Sealer, parse_key
from .holds.store import HoldStore
from .local_secrets import hold_keys, local_secret
from .logs import LoopErrors, set_pseudonym_key
from .parts import (
    CamaraParts,
    ErasureParts,
    HoldParts,
    MetricsParts,
    OperatorParts,
    PolicyParts,
    RetentionParts,
    RiskEventParts,
    SignalParts,
    TenantParts,
    WebhookParts,
)
from .peers.lookup import PeerLookups
from .peers.pull import PeerPuller
from .retention import purge_forever
from .signals.feed_health import FeedHealth
from .signals.index_rebuild import rebuild_risk_index
from .signals.ingest import SignalIngest
from .signals.mqtt_feed import MqttFeed
from .signals.risk_index import RiskIndex
from .signals.store import SignalStore
from .store import SqliteWriter
from .tenants import keys as api_keys
from .tenants.directory import TenantDirectory
from .tenants.keys import ApiKeys
from .traffic import parking, receipt_relay
from .traffic.decider import Decider, PolicyHolder
from .traffic.esme_binds import EsmeBinds
from .traffic.id_map import IdMap, MappedMessage
from .traffic.message_ids import MessageIdGenerator, node_number
from .traffic.parking import Parking
from .traffic.pipeline import Pipeline
from .traffic.receipt_relay import ReceiptRelay
from .traffic.router import Router
from .traffic.simulated_upstreams import SimulatedUpstreams
from .traffic.smpp_listeners import start_smpp_listeners
from .upkeep import upkeep_forever
from .webhooks import outbox, subscriptions
from .webhooks.outbox import Dispatcher, Outbox
from .webhooks.risk_events import risk_event_writer
from .webhooks.subscriptions import Subscriptions

log = structlog.get_logger("otpgate")
# The collector's thresholds once the gateway is up. With CPython's (700, 10, 10) the
# messages in flight (several hundred per window, a dozen containers each) set off a young
# collection every ~30 messages and a full one every few seconds: 20-25 % of the gateway's
# CPU in a pass-through run. At these thresholds it is under 5 %: 18 % less CPU per message
# and 20 % more throughput (docs/benchmarks.md, "Garbage collector").
_GC_THRESHOLDS = (10_000, 20, 50)


def durable_schema(db: sqlite_utils.Database) -> None:
    """Tables of the durable database (synchronous=FULL): what must survive a power cut."""
    receipt_relay.create_tables(db)
    hold_store.create_tables(db)
    parking.create_tables(db)
    api_keys.create_tables(db)
    subscriptions.create_tables(db)
    outbox.create_tables(db)
    relations.create_tables(db)
    camara_api.create_tables(db)
    subscription_terms.create_tables(db)
    cluster_duties.create_tables(db)


class Gateway:
    """One otpgate node."""

    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.smpp_port: int | None = None
        self.smpp_tls_port: int | None = None
        self.api_port: int | None = None
        self.upstreams = SimulatedUpstreams()
        self._purge_task: asyncio.Task[None] | None = None
        self._history_task: asyncio.Task[None] | None = None
        self._servers: list[asyncio.Server] = []
        self._api_runner: web.AppRunner | None = None
        self._tenant_runner: web.AppRunner | None = None
        self.tenant_api_port: int | None = None
        # Paths of the tenant listener that authenticate with OAuth2 tokens, not API keys.
        self.camara_paths: tuple[str, ...] = (
            "/oauth2/",
            "/sim-swap/",
            "/sim-swap-subscriptions/",
            "/call-forwarding-signal/",
        )

    async def start(self) -> None:
        """Build and start every part, each handed what it uses when it is made: the stores,
        the webhooks, the signals, the traffic path, then the listeners."""
        config = self.config
        loop = asyncio.get_running_loop()
        # asyncio's own errors (accept() failing, a callback raising) become log lines of the
        # one JSON stream, each kind at most once per interval.
        loop.set_exception_handler(LoopErrors())
        data_dir = Path(config.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self._open_stores(data_dir, loop)
        self.tenants = TenantDirectory(config.tenants, config.smpp.accounts)
        await self._start_webhooks(data_dir)
        await self._start_signals(data_dir)
        # Started once the feeds' health exists, which it reports every minute: a risk
        # index rebuilt for more than a minute must not end the loop on its first report.
        self._relations_task = loop.create_task(
            upkeep_forever(
                self.relations,
                self.outbox,
                self.subscriptions,
                self.subscription_terms,
                self.durable,
                self.clock,
                self.feed_health,
            ),
            name="upkeep",
        )
        await self._start_traffic()
        self.history = History(self.stats, self.dispatcher.latency, self.clock)
        await self._start_listeners()
        self.retention = RetentionParts(
            config.retention,
            self.risk_index,
            self.signal_store,
            self.id_map,
            self.durable,
            self.audit,
            self.clock,
        )
        self._purge_task = loop.create_task(purge_forever(self.retention), name="purge")
        self._history_task = loop.create_task(self.history.run(), name="history")
        log.info(
            "gateway_started",
            node=config.node_id,
            smpp=f"{config.smpp.host}:{self.smpp_port}",
            api=f"{config.api.host}:{self.api_port}",
            config=config.source,
        )

    def _open_stores(self, data_dir: Path, loop: asyncio.AbstractEventLoop) -> None:
        """The durable database, the id map with its audit rows, the message ids, the sealer."""
        self.durable = SqliteWriter(
            data_dir / "otpgate.sqlite",
            synchronous="FULL",
            schema=durable_schema,
            secure_delete=True,
        )
        self.durable.open(loop)
        self.ids = MessageIdGenerator(
            node_number(self.config.node_id),
            lambda: int(self.clock.now() * 1000),
            self.config.smpp.message_id_format,
        )
        self.id_map = IdMap(data_dir / "message-map.sqlite", self.ids)
        self.id_map.open(loop)
        self.audit = DecisionAudit(self.id_map.writer)
        self.stats = TrafficStats()  # what the message path, receipts and CAMARA count
        self.sealer = Sealer([parse_key(k) for k in hold_keys(self.config.holds.keys, data_dir)])

    async def _start_traffic(self) -> None:
        """The SMPP path: binds, receipt relay, routes, decider, holds, pipeline, parking; the
        holds and parts a crash left behind are taken up again."""
        config = self.config
        smpp = config.smpp
        self.binds = EsmeBinds(
            AccountBook(smpp.accounts),
            Lockout(
                smpp.bind_failures_before_lockout,
                smpp.lockout_s,
                account_limit=smpp.bind_failures_per_account,
            ),
            protocol_error_log_lines=smpp.protocol_error_log_lines,
        )
        relay = self.relay = ReceiptRelay(
            self.binds,
            self.id_map,
            self.durable,
            self.clock,
            buffer_s=smpp.receipt_buffer_s,
            mo_account=smpp.mo_account,
            stats=self.stats,
        )
        hosts_of = await self.upstreams.hosts_of(config, config.simulator)
        self.router = Router(config, hosts_of, relay.on_upstream_deliver)
        self.policies = PolicyHolder(policy_of(config))
        # Other operators' numbers: facts pulled from their CAMARA APIs (none configured:
        # no puller, and the decider never looks).
        self.peer_lookups = PeerLookups(config.camara_peers)
        self.peers: PeerPuller | None = None
        if config.camara_peers and config.policy_enabled:
            self.peers = PeerPuller(
                self.peer_lookups,
                self.clock,
                audit=self.audit,
                on_risk=self.signal_ingest.on_risk_change,
            )
            self.peers.start()
        self.decider = (
            Decider(self.policies, self.risk_index, self.feed_health, self.peer_lookups)
            if config.policy_enabled
            else None
        )

        def mapped(
            route: str, upstream_id: str, gateway_id: str, account: str, rd: int, at: float
        ) -> Awaitable[None]:
            return relay.record_mapping_on_disk(
                MappedMessage(route, upstream_id, gateway_id, account, rd, at)
            )

        self.holds = HoldBook(
            HoldStore(self.durable),
            self.sealer,
            Forwarding(self.router.submit, mapped, relay.flush_pending),
            self.clock,
            HoldLimits(
                config.holds.max_per_account,
                config.holds.max_total,
                config.holds.over_limit,
                config.holds.retry_max_s,
            ),
            outbox=self.outbox,
            on_events_written=self.dispatcher.kick,
        )
        # Parking hands whole messages back to the pipeline, which parks their parts: the
        # callback finds the pipeline made just below.
        pipeline: Pipeline
        self.parking = Parking(
            self.durable,
            self.sealer,
            self.clock,
            lambda whole: pipeline.on_whole(whole),
            timeout_s=smpp.reassembly_timeout_s,
        )
        pipeline = self.pipeline = Pipeline(
            self.router,
            self.id_map,
            self.ids,
            self.clock,
            relay,
            self.decider,
            self.holds,
            parking=self.parking if self.decider is not None else None,
            accounts=self.binds.accounts.accounts,
            tenant_of=self.tenants.tenant_of,
            audit=self.audit,
            relations=self.relations,
            stats=self.stats,
            peers=self.peers,
        )
        # The ESME side serves through the pipeline, which needs the relay, which needs the
        # binds: the one handler attached after the fact, as a server's is.
        self.binds.pipeline = pipeline
        self.router.start()
        recovered = await self.holds.recover()
        if recovered:
            log.info("holds_recovered", open=recovered)
        parked = await self.parking.recover() if self.decider is not None else 0
        if parked:
            log.info("parked_parts_recovered", parts=parked)
        # Recovered holds live long too: out of the collector's sight with the risk index.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*_GC_THRESHOLDS)

    async def _start_listeners(self) -> None:
        """The SMPP listeners (plain and TLS), the cluster bus, the two HTTP APIs."""
        config = self.config
        loop = asyncio.get_running_loop()
        listeners = await start_smpp_listeners(self.binds, config.smpp, self._servers)
        self.admission = listeners.admission
        self.smpp_port = listeners.port
        self.smpp_tls_port = listeners.tls_port
        self.cluster: ClusterBus | None = None
        duties: ClusterDuties | None = None
        cluster = config.cluster
        if cluster.nodes and config.signals.mqtt is not None and cluster.secret:
            duties = ClusterDuties(
                self.relay,
                self.holds,
                self.durable,
                self.clock,
                pending_receipts_keep_s=config.retention.pending_receipts_h * 3600,
            )
            self.cluster = ClusterBus(
                config.signals.mqtt,
                config.node_id,
                cluster.nodes,
                cluster.secret.encode(),
                duties.carry_out,
                duties.remember_command,
            )
        operator, tenant = self._api_parts()
        self._api_runner = web.AppRunner(build_operator_app(operator), access_log=None)
        self.api_port = await serve_http(self._api_runner, config.api.host, config.api.port)
        self._tenant_runner = web.AppRunner(build_tenant_app(tenant), access_log=None)
        self.tenant_api_port = await serve_http(
            self._tenant_runner, config.api.tenant_host, config.api.tenant_port
        )
        if self.cluster is not None and duties is not None:
            self.cluster.start()
            self.relay.elsewhere = functools.partial(offer_receipt, self.cluster)
            self._kept_receipts_task = loop.create_task(
                duties.offer_kept_receipts(), name="kept-receipts"
            )

    async def _start_signals(self, data_dir: Path) -> None:
        """The risk index rebuilt from the signal store, then the feeds and the purge job."""
        signals = self.config.signals
        self.risk_index = RiskIndex(signals.risk)
        self.signal_store = SignalStore(data_dir / "signals.sqlite")
        self.signal_store.open(asyncio.get_running_loop())
        await rebuild_risk_index(self.risk_index, self.signal_store)
        now = self.clock.now()
        self.feed_health = FeedHealth(
            started_at=now,
            max_silence_s=signals.max_silence_s,
            outage_after_s=signals.outage_after_s,
            mqtt_configured=signals.mqtt is not None,
            mqtt_changed_at=now,
        )
        self.signal_ingest = SignalIngest(
            self.risk_index,
            self.signal_store,
            self.feed_health,
            self.clock,
            default_region=signals.default_region,
            on_risk_change=risk_event_writer(
                RiskEventParts(
                    self.tenants,
                    self.relations,
                    self.subscriptions,
                    self.outbox,
                    self.durable,
                    self.dispatcher,
                    self.clock,
                    self.subscription_terms,
                )
            ),
        )
        self.mqtt_feed = None
        if signals.mqtt is not None:
            self.mqtt_feed = MqttFeed(
                signals.mqtt, self.signal_ingest, self.feed_health, self.clock
            )
            self.mqtt_feed.start()

    async def _start_webhooks(self, data_dir: Path) -> None:
        """Tenant keys, webhook endpoints, the outbox and its dispatcher."""
        from .webhooks.sender import WebhookSender

        pepper = self.config.api.key_pepper or local_secret(data_dir / "key.pepper")
        self.api_keys = ApiKeys(self.durable, pepper.encode())
        await self.api_keys.load()
        self.subscriptions = Subscriptions(self.durable, self.sealer)
        await self.subscriptions.load()
        self.outbox = Outbox(self.subscriptions, f"otpgate://{self.config.node_id}")
        webhooks = self.config.webhooks
        self.webhook_sender = WebhookSender(
            allow_http_hosts=webhooks.allow_http_hosts, allow_networks=webhooks.allow_networks
        )
        self.subscription_terms = SubscriptionTerms(self.durable, self.sealer)
        await self.subscription_terms.load()
        terms = self.subscription_terms
        self.dispatcher = Dispatcher(
            self.durable,
            self.subscriptions,
            self.webhook_sender,
            self.clock,
            webhooks,
            lambda hook, now: terms.delivery_headers(hook.id, hook.phone_number, now),
        )
        self.pseudonym_key = hmac.new(pepper.encode(), b"pseudonym", hashlib.sha256).digest()
        set_pseudonym_key(self.pseudonym_key)
        self.camara_tokens = TokenIssuer(self.config.camara.token_lifetime_s)
        # JWTs of the operator's authorization server, beside the tokens issued here.
        self.camara_jwt: JwksRefresher | None = None
        if self.config.camara.jwt is not None:
            self.camara_jwt = JwksRefresher(JwtVerifier(self.config.camara.jwt), self.clock)
            await self.camara_jwt.start()
        self.relations = Relations(self.durable, [t.name for t in self.config.tenants])
        await self.relations.load()
        self.dispatcher.start()

    def _api_parts(self) -> tuple[OperatorParts, TenantParts]:
        """The bundles each API is handed: what it reads, not the whole gateway."""
        config = self.config
        holds = HoldParts(self.holds, self.clock, self.cluster)
        erasure = ErasureParts(
            self.holds,
            self.signal_store,
            self.risk_index,
            self.durable,
            self.id_map,
            self.audit,
            self.relations,
            self.subscriptions,
            self.subscription_terms,
            self.peer_lookups.cache,
        )
        signals = SignalParts(
            self.signal_ingest,
            self.risk_index,
            self.signal_store,
            self.feed_health,
            self.clock,
            config.signals,
            functools.partial(erase_subscriber, erasure),
        )
        metrics = MetricsParts(
            self.stats,
            self.clock,
            self.holds,
            self.binds,
            self.router,
            self.feed_health,
            self.dispatcher,
            self.durable,
            self.signal_store,
            self.id_map,
            self.peers,
        )
        webhooks = WebhookParts(
            self.subscriptions,
            self.outbox,
            self.dispatcher,
            self.durable,
            self.clock,
            config.webhooks,
        )
        operator = OperatorParts(
            config.api,
            config.node_id,
            self.api_keys,
            self.tenants,
            self.binds,
            self.router,
            self.feed_health,
            self.durable,
            self.signal_store,
            self.id_map,
            self.clock,
            self.reload_config,
            self.reload_policy,
            holds,
            signals,
            metrics,
            PolicyParts(
                self.policies, self.risk_index, self.feed_health, self.tenants.tenant_of, self.clock
            ),
            webhooks,
            self.history,
            self.peers,
            self.camara_jwt,
        )
        camara = CamaraParts(
            self.api_keys,
            self.camara_tokens,
            self.tenants,
            self.relations,
            self.risk_index,
            self.subscriptions,
            self.durable,
            self.clock,
            config.camara,
            config.webhooks,
            self.stats,
            self.subscription_terms,
            self.outbox,
            self.dispatcher,
            self.camara_jwt,
        )
        tenant = TenantParts(self.api_keys, self.camara_paths, camara, holds, webhooks)
        return operator, tenant

    def reload_policy(self) -> Policy:
        """Swap in the policy file again; an invalid file raises PolicyError and the old one stays."""
        return reload_policy(self.config, self.policies)

    async def reload_config(self) -> dict[str, object]:
        """Accounts, tenants, routes and policy from the file again, without dropping binds.

        Everything is read and validated before anything changes: an invalid file raises
        ConfigError or PolicyError and the running configuration stays. Settings that need
        a restart (node, data directory, listeners) are reported, not applied.
        """
        reload = read_reload(self.config)
        hosts_of = await self.upstreams.hosts_of(reload.read, self.config.simulator)
        self.config = reload.config
        return await apply_reload(
            reload,
            hosts_of,
            router=self.router,
            binds=self.binds,
            pipeline=self.pipeline,
            tenants=self.tenants,
            relations=self.relations,
            policies=self.policies,
        )

    async def wait_upstream(self, timeout_s: float = 10.0) -> None:
        """Wait until every pool has a transmitting bind (tests, start-up scripts)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not all(pool.can_transmit for pool in self.router.pools.values()):
            if loop.time() > deadline:
                raise TimeoutError("upstream binds not up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop accepting, let in-flight answers drain, unbind ESMEs, close upstream and stores."""
        for server in self._servers:
            server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while loop.time() < deadline and self.router.in_flight:
            await asyncio.sleep(0.02)
        await self.binds.close_all()
        await self.router.stop()
        if self._api_runner is not None:
            await self._api_runner.cleanup()
        if self._tenant_runner is not None:
            await self._tenant_runner.cleanup()
        await self.dispatcher.stop()
        self._relations_task.cancel()
        self.relations.flush()
        await self.webhook_sender.close()
        if self.camara_jwt is not None:
            await self.camara_jwt.stop()
        await self.upstreams.stop()
        if self.cluster is not None:
            self._kept_receipts_task.cancel()
            await self.cluster.stop()
        await self.holds.stop()
        if self.peers is not None:
            await self.peers.stop()
        self.parking.stop()
        if self.mqtt_feed is not None:
            await self.mqtt_feed.stop()
        if self._purge_task is not None:
            self._purge_task.cancel()
        if self._history_task is not None:
            self._history_task.cancel()
        self.audit.flush()
        # What the awaits since holds.stop() put in the holds' window (a peer's answer, a
        # parking timer) reaches the writer before it closes.
        self.holds.store.flush()
        self.id_map.close()
        self.signal_store.close()
        self.durable.close()
        log.info("gateway_stopped", node=self.config.node_id)
