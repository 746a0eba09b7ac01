"""The small bundles of parts that the APIs, the metrics, the purge, the erasure and the risk
events are handed by the composition root (``app.py``): each names what its user reads,
so no module below the root needs the whole gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.policy_file import Policy

    from .audit import DecisionAudit
    from .camara.jwks_fetch import JwksRefresher
    from .camara.relations import Relations
    from .camara.subscription_terms import SubscriptionTerms
    from .camara.tokens import TokenIssuer
    from .clock import Clock
    from .cluster import ClusterBus
    from .config import ApiConfig, RetentionConfig, SignalsConfig
    from .config_tenants import CamaraConfig, WebhooksConfig
    from .counters import TrafficStats
    from .history import History
    from .holds.book import HoldBook
    from .peers.cache import FactCache
    from .peers.pull import PeerPuller
    from .signals.feed_health import FeedHealth
    from .signals.ingest import SignalIngest
    from .signals.risk_index import RiskIndex
    from .signals.store import SignalStore
    from .store import SqliteWriter
    from .tenants.directory import TenantDirectory
    from .tenants.keys import ApiKeys
    from .traffic.decider import PolicyHolder
    from .traffic.esme_binds import EsmeBinds
    from .traffic.id_map import IdMap
    from .traffic.router import Router
    from .webhooks.outbox import Dispatcher, Outbox
    from .webhooks.subscriptions import Subscriptions


@dataclass(frozen=True, slots=True)
class HoldParts:
    """The hold API's: the holds, and the other nodes that own holds of their own."""

    holds: HoldBook
    clock: Clock
    cluster: ClusterBus | None


@dataclass(frozen=True, slots=True)
class ErasureParts:
    """Everything that may keep a subscriber's number."""

    holds: HoldBook
    signal_store: SignalStore
    risk_index: RiskIndex
    durable: SqliteWriter
    id_map: IdMap
    audit: DecisionAudit
    relations: Relations
    subscriptions: Subscriptions
    subscription_terms: SubscriptionTerms
    peer_cache: FactCache | None = None


@dataclass(frozen=True, slots=True)
class SignalParts:
    """The signal API's: ingest, the index it feeds, the store behind it, the feeds' health."""

    signal_ingest: SignalIngest
    risk_index: RiskIndex
    signal_store: SignalStore
    feed_health: FeedHealth
    clock: Clock
    signals_config: SignalsConfig
    erase: Callable[[str], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class WebhookParts:
    """The webhook API's: a tenant's endpoints, the outbox and its dispatcher."""

    subscriptions: Subscriptions
    outbox: Outbox
    dispatcher: Dispatcher
    durable: SqliteWriter
    clock: Clock
    webhooks_config: WebhooksConfig


@dataclass(frozen=True, slots=True)
class CamaraParts:
    """The CAMARA endpoints': clients and tokens, tenants and their relations, the index."""

    api_keys: ApiKeys
    camara_tokens: TokenIssuer
    tenants: TenantDirectory
    relations: Relations
    risk_index: RiskIndex
    subscriptions: Subscriptions
    durable: SqliteWriter
    clock: Clock
    camara_config: CamaraConfig
    webhooks_config: WebhooksConfig
    stats: TrafficStats
    subscription_terms: SubscriptionTerms
    outbox: Outbox
    dispatcher: Dispatcher
    camara_jwt: JwksRefresher | None = None  # [camara.jwt]: the authorization server's tokens


@dataclass(frozen=True, slots=True)
class MetricsParts:
    """What /metrics reads: counters of the message path and the state of every part."""

    stats: TrafficStats
    clock: Clock
    holds: HoldBook
    binds: EsmeBinds
    router: Router
    feed_health: FeedHealth
    dispatcher: Dispatcher
    durable: SqliteWriter
    signal_store: SignalStore
    id_map: IdMap
    peers: PeerPuller | None = None


@dataclass(frozen=True, slots=True)
class PolicyParts:
    """The policy in force and what a decision reads: for showing and explaining it."""

    policies: PolicyHolder
    risk_index: RiskIndex
    feed_health: FeedHealth
    tenant_of: Callable[[str, str], str | None]
    clock: Clock


@dataclass(frozen=True, slots=True)
class OperatorParts:
    """The operator API's own routes (health, binds, keys, reload) and its sub-APIs' parts."""

    api_config: ApiConfig
    node_id: str
    api_keys: ApiKeys
    tenants: TenantDirectory
    binds: EsmeBinds
    router: Router
    feed_health: FeedHealth
    durable: SqliteWriter
    signal_store: SignalStore
    id_map: IdMap
    clock: Clock
    reload_config: Callable[[], Awaitable[object]]
    reload_policy: Callable[[], Policy]
    holds: HoldParts
    signals: SignalParts
    metrics: MetricsParts
    policy: PolicyParts
    webhooks: WebhookParts
    history: History
    peers: PeerPuller | None = None  # other operators' CAMARA APIs, for /readyz
    camara_jwt: JwksRefresher | None = None  # the authorization server's keys, for /readyz


@dataclass(frozen=True, slots=True)
class TenantParts:
    """The tenant listener's: its keys, and the parts of the APIs it serves."""

    api_keys: ApiKeys
    camara_paths: tuple[str, ...]
    camara: CamaraParts
    holds: HoldParts
    webhooks: WebhookParts


@dataclass(frozen=True, slots=True)
class RetentionParts:
    """What the purge job trims."""

    retention_config: RetentionConfig
    risk_index: RiskIndex
    signal_store: SignalStore
    id_map: IdMap
    durable: SqliteWriter
    audit: DecisionAudit
    clock: Clock


@dataclass(frozen=True, slots=True)
class RiskEventParts:
    """What a ``risk.*`` event needs: who is related to the number, and where events go."""

    tenants: TenantDirectory
    relations: Relations
    subscriptions: Subscriptions
    outbox: Outbox
    durable: SqliteWriter
    dispatcher: Dispatcher
    clock: Clock
    subscription_terms: SubscriptionTerms
