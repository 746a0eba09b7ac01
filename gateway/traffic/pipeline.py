"""The path of one submit_sm: decide, forward upstream, answer the ESME with the gateway's id.

Single-part messages pass transparently: the upstream's bytes go out with only the sequence
number patched, and the upstream's status comes back to the ESME. On ESME_ROK the gateway
issues its own message id and records (route, upstream id) -> (gateway id, account) so
receipts, query_sm and cancel_sm find their way back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING

import structlog

from policies.decisions import Hold, Reject
from smpp_adapters.constants import CommandStatus
from smpp_adapters.pdu import Pdu
from smpp_adapters.transport import ResponseCallback

from ..audit import DecisionAudit
from ..clock import Clock
from ..config import AccountConfig
from ..counters import TrafficStats
from ..final_receipts import final_receipt, wants_failure_receipt
from .decider import Decider, Decision
from .id_map import IdMap, MappedMessage
from .message_ids import MessageIdGenerator
from .message_text import part_of, text_of, text_of_parts
from .parking import Parking, WholeMessage
from .peer_waits import PeerWaits
from .query_cancel import UNKNOWN_OUTCOME, QueryAndCancel
from .router import Router
from .upstream import UpstreamPool

if TYPE_CHECKING:
    from ..camara.relations import Relations
    from ..holds.book import HoldBook
    from ..peers.pull import PeerPuller
    from .esme_binds import EsmeBind
    from .receipt_relay import ReceiptRelay

log = structlog.get_logger("otpgate.pipeline")

_OK = CommandStatus.ESME_ROK
# Acknowledged parts wait this long for a route (as a hold waits until its expiry) before
# the ESME gets an UNDELIV receipt for them.
_PARTS_PATIENCE_S = 600.0
_PARTS_PAUSE_MAX_S = 30.0
_TRY_AGAIN = frozenset({CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL})
# A hold of parked parts whose commit failed is tried this many times in all.
_HOLD_PARTS_ATTEMPTS = 5
# What a decision leads to, beside a command status to refuse with (never negative).
_FORWARD = -1
_HOLD = -2


class Pipeline:
    def __init__(
        self,
        router: Router,
        id_map: IdMap,
        ids: MessageIdGenerator,
        clock: Clock,
        relay: ReceiptRelay,
        decider: Decider | None,
        holds: HoldBook | None = None,
        *,
        parking: Parking | None = None,
        accounts: dict[str, AccountConfig] | None = None,
        tenant_of: Callable[[str, str], str | None] | None = None,
        audit: DecisionAudit | None = None,
        relations: Relations | None = None,
        stats: TrafficStats | None = None,
        peers: PeerPuller | None = None,
    ) -> None:
        self.decider = decider
        self.peer_waits = PeerWaits(decider, peers, clock)  # other operators' numbers' facts
        self.holds = holds
        self.parking = parking  # concatenated parts wait there until whole (with a decider)
        self.accounts = accounts if accounts is not None else {}  # replaced on reload
        self.relations = relations  # who sent to which number (CAMARA's guard)
        self.stats = stats or TrafficStats()
        self.audit = audit
        # (account, source_addr) -> tenant; by default the account's own tenant.
        self.tenant_of = tenant_of or self._tenant_of_account
        self.router = router
        self.id_map = id_map
        self.ids = ids
        self.clock = clock
        self.relay = relay
        self.queries = QueryAndCancel(holds, id_map, router)

    @property
    def pulls_waiting(self) -> int:
        """Submits waiting for a peer's answer."""
        return self.peer_waits.waiting

    def _tenant_of_account(self, account: str, source_addr: str) -> str | None:
        config = self.accounts.get(account)
        return config.tenant if config is not None else None

    # -- submit_sm and data_sm ---------------------------------------------------------------

    def on_submit(self, bind: EsmeBind, pdu: Pdu) -> None:
        self.stats.submits_in[bind.account.system_id] += 1
        if self.decider is None:
            self._forward(bind, pdu)
            return
        account = bind.account
        part = part_of(pdu)
        if part is not None and self.parking is not None:
            self.parking.park(bind, pdu, part, self.ids.next())
            return
        now = self.clock.now()
        decision = self._decide(account, pdu, lambda: text_of(pdu, account), now)
        if decision.lookup is not None:
            self._after_pull(decision, now, lambda final, at: self._act(bind, pdu, final, at))
            return
        self._act(bind, pdu, decision, now)

    def _act(self, bind: EsmeBind, pdu: Pdu, decision: Decision, now: float) -> None:
        then = self._settle(bind.account, decision, 1, now)
        if then == _FORWARD:
            self._forward(bind, pdu)
        elif then == _HOLD:
            self._hold(bind, pdu, decision)
        else:
            self._respond(bind, pdu, then)

    def _decide(
        self, account: AccountConfig, first: Pdu, text: Callable[[], str | None], now: float
    ) -> Decision:
        """The decision of a message, single or reassembled; it may still need a pull."""
        assert self.decider is not None  # no decider: everything is forwarded undecided
        params = first.params
        source = str(params.get("source_addr", ""))
        return self.decider.decide(
            account=account.system_id,
            source_addr=source,
            destination_addr=str(params.get("destination_addr", "")),
            text=text,
            now=now,
            tenant=self.tenant_of(account.system_id, source),
            otp_only=account.otp_only,
        )

    def _after_pull(
        self, decision: Decision, now: float, then: Callable[[Decision, float], None]
    ) -> None:
        """Ask the destination's operator, then go on with the completed decision. The
        submit waits (its response with it) while the session's other PDUs go on."""
        # The sender is related to the number from the moment it asks: a SIM change the
        # answer reveals is told to it as ``risk.sim_swap``, as a signal's would be.
        self._remember_recipient(decision, now)
        self.peer_waits.start(decision, then)

    def _settle(self, account: AccountConfig, decision: Decision, parts: int, now: float) -> int:
        """A final decision: counted, its recipient remembered for CAMARA, logged and
        audited when a rule spoke. Returns what to do: _FORWARD, _HOLD, or the command
        status to refuse it with."""
        verdict = decision.verdict
        self._count_decision(decision)
        self._remember_recipient(decision, now)
        if verdict.rule is not None and (verdict.reasons or verdict.shadow or verdict.notify):
            self._log_decision(account.system_id, decision, parts)
        action = verdict.action
        if type(action) is Reject:
            return action.command_status
        if type(action) is Hold and self.holds is not None:
            if self.holds.has_room(account.system_id):
                return _HOLD
            # A flood must not fill the disk: over the cap the configured fallback applies.
            log.warning("hold_limit_reached", account=account.system_id, rule=verdict.rule)
            if self.holds.limits.over_limit == "reject":
                return CommandStatus.ESME_RX_R_APPN
        return _FORWARD

    def _remember_recipient(self, decision: Decision, now: float) -> None:
        """The tenant sent to the number: it may ask CAMARA about it, and hears of its risk."""
        message = decision.message
        digits = message.destination_addr[1:]
        if self.relations is not None and message.tenant is not None and digits.isdigit():
            self.relations.sent(message.tenant, int(digits), now)

    def _hold(self, bind: EsmeBind, pdu: Pdu, decision: Decision) -> None:
        assert self.holds is not None and type(decision.verdict.action) is Hold
        account = bind.account.system_id
        self.stats.responses[(account, _OK)] += 1
        connection = bind.connection
        self.holds.hold(
            account,
            lambda status, params=None: connection.send_response(pdu, status, params),
            pdu,
            decision.verdict,
            decision.verdict.action,
            self.ids.next(),
            decision.message.destination_addr,
            decision.message.tenant,
        )

    def _log_decision(self, account: str, decision: Decision, parts: int = 1) -> None:
        """Every non-default decision is logged and audited with its rule and reasons (never
        the text)."""
        verdict = decision.verdict
        message = decision.message
        if self.audit is not None:
            self.audit.record(
                self.clock.now(), account, message.tenant, message.destination_addr, verdict, parts
            )
        event = "hold" if isinstance(verdict.action, Hold) else "decision"
        log.info(
            event,
            account=account,
            parts=parts,
            decision=verdict.decision,
            rule=verdict.rule,
            reasons=[r.to_json() for r in verdict.reasons],
            notify=list(verdict.notify),
            shadow=[s.rule for s in verdict.shadow],
            **_classification_fields(decision),
        )

    # -- concatenated messages, whole --------------------------------------------------------

    def on_whole(self, whole: WholeMessage) -> None:
        """Decide a parked message once; every part follows that decision."""
        assert self.parking is not None
        account = self.accounts.get(whole.account) or AccountConfig(whole.account, "")
        pdus = [part.pdu for part in whole.parts]
        # After a reassembly timeout the text is what arrived.
        now = self.clock.now()
        decision = self._decide(account, pdus[0], lambda: text_of_parts(pdus, account), now)
        if decision.lookup is not None:
            self._after_pull(
                decision, now, lambda final, at: self._act_whole(whole, account, final, at)
            )
            return
        self._act_whole(whole, account, decision, now)

    def _act_whole(
        self, whole: WholeMessage, account: AccountConfig, decision: Decision, now: float
    ) -> None:
        assert self.parking is not None
        then = self._settle(account, decision, len(whole.parts), now)
        if then == _FORWARD:
            asyncio.get_running_loop().create_task(self._forward_parts(whole))
        elif then == _HOLD:
            self._hold_parts(whole, decision)
        else:
            self._fail_parts(whole, "REJECTD", then)
            self.parking.done(whole.parts)

    def _hold_parts(self, whole: WholeMessage, decision: Decision, attempt: int = 1) -> None:
        assert self.holds is not None and type(decision.verdict.action) is Hold
        ids = [(p.gateway_id,) for p in whole.parts]

        def unpark(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM parked_parts WHERE gateway_id = ?", ids)

        def committed(ok: bool) -> None:
            if ok:
                return
            # Acknowledged parts must not wait for a restart: the hold is tried again (they
            # stay parked on disk meanwhile, so a crash hands them over all the same).
            retry = attempt < _HOLD_PARTS_ATTEMPTS
            log.error("parts_not_held", account=whole.account, attempt=attempt, retry=retry)
            if retry:
                asyncio.get_running_loop().call_later(
                    attempt * 0.5, self._hold_parts, whole, decision, attempt + 1
                )

        self.holds.hold_parts(
            whole.account,
            decision.message.tenant,
            [(p.gateway_id, p.pdu) for p in whole.parts],
            decision.verdict,
            decision.verdict.action,
            decision.message.destination_addr,
            also=unpark,
            on_commit=committed,
        )

    async def _forward_parts(self, whole: WholeMessage) -> None:
        """Forward the parts in order, each after the previous one's answer; a part the SMSC
        refuses reaches the ESME as a receipt (it already has ESME_ROK). The parked rows go
        only once every mapping is on disk, so a crash in between cannot lose a receipt."""
        mapped_on_disk: list[asyncio.Future[None]] = []
        for part in whole.parts:
            route, response = await self._submit_acknowledged(whole.account, part.pdu)
            status = response.command_status if response is not None else UNKNOWN_OUTCOME
            if status != _OK:
                self._fail_parts(WholeMessage(whole.account, (part,), 1), "UNDELIV", status)
                continue
            mapped = MappedMessage(
                route,
                str(response.params.get("message_id", "")),  # type: ignore[union-attr]
                part.gateway_id,
                whole.account,
                int(part.pdu.params.get("registered_delivery", 0)) & 0x03,
                self.clock.now(),
            )
            mapped_on_disk.append(self.relay.record_mapping_on_disk(mapped))
        await asyncio.gather(*mapped_on_disk)
        self.parking.done(whole.parts)  # type: ignore[union-attr]

    async def _submit_acknowledged(self, account: str, pdu: Pdu) -> tuple[str, Pdu | None]:
        """Submit a part the ESME already has ESME_ROK for: while no route can take it (the
        upstream still binding after a restart, an SMSC outage, throttling) it is tried again
        with a growing pause, for _PARTS_PATIENCE_S, before it fails as undeliverable."""
        give_up = self.clock.now() + _PARTS_PATIENCE_S
        pause = 0.25
        while True:
            answer = self.router.submit(account, pdu)
            route, response = await answer if answer is not None else ("", None)
            unavailable = answer is None or (
                response is not None and response.command_status in _TRY_AGAIN
            )
            if not unavailable or self.clock.now() + pause > give_up:
                return route, response
            await asyncio.sleep(pause)
            pause = min(_PARTS_PAUSE_MAX_S, pause * 2)

    def _fail_parts(self, whole: WholeMessage, stat: str, status: int) -> None:
        now = self.clock.now()
        for part in whole.parts:
            params = part.pdu.params
            if not wants_failure_receipt(int(params.get("registered_delivery", 0))):
                continue
            receipt = final_receipt(
                message_id=part.gateway_id,
                handset=str(params.get("destination_addr", "")),
                sender=str(params.get("source_addr", "")),
                stat=stat,
                submitted_at=part.created_at,
                done_at=now,
                err=status,
            )
            self.relay.store(whole.account, part.gateway_id, receipt)
        self.relay.flush_pending(whole.account)

    def _forward(self, bind: EsmeBind, pdu: Pdu) -> None:
        for pool in self.router.pools_for(bind.account.system_id):
            if pool.submit(pdu, self._answer(bind, pdu, pool)):
                return
        self._respond(bind, pdu, CommandStatus.ESME_RTHROTTLED)

    def _respond(self, bind: EsmeBind, pdu: Pdu, status: int) -> None:
        self.stats.responses[(bind.account.system_id, status)] += 1
        bind.connection.send_response(pdu, status)

    def _count_decision(self, decision: Decision) -> None:
        classification = decision.classification
        self.stats.classified[
            "skipped" if classification is None else ("otp" if classification.is_otp else "not_otp")
        ] += 1
        verdict = decision.verdict
        if verdict.rule is not None:
            self.stats.decisions[(verdict.rule, verdict.decision, False)] += 1
        for shadow in verdict.shadow:
            self.stats.decisions[(shadow.rule, type(shadow.action).__name__.lower(), True)] += 1

    def _answer(self, bind: EsmeBind, pdu: Pdu, pool: UpstreamPool) -> ResponseCallback:
        started = perf_counter()

        def answered(response: Pdu | None) -> None:
            connection = bind.connection
            stats = self.stats
            account = bind.account
            stats.latency.observe(perf_counter() - started)
            status = UNKNOWN_OUTCOME if response is None else response.command_status
            stats.responses[(account.system_id, status)] += 1
            if response is None:
                connection.send_message_id_response(pdu, UNKNOWN_OUTCOME, None)
                log.warning("upstream_outcome_unknown", account=account.system_id, route=pool.name)
                return
            if status != _OK:
                connection.send_message_id_response(pdu, status, None, response.tlvs)
                return
            now = self.clock.now()  # one read: the id's time and the mapping's
            gateway_id = self.ids.next(int(now * 1000))
            mapped = MappedMessage(
                pool.name,
                str(response.params.get("message_id", "")),
                gateway_id,
                account.system_id,
                int(pdu.params.get("registered_delivery", 0)) & 0x03,
                now,
            )
            tlvs = response.tlvs
            if account.map_before_ack:

                def mapped_on_disk(error: Exception | None) -> None:
                    # The message is at the SMSC either way: the ESME gets its id; without
                    # the row, a crash now would cost its receipt.
                    if error is not None:
                        log.error("receipt_mapping_not_written", error=str(error))
                    connection.send_message_id_response(pdu, _OK, gateway_id, tlvs)

                self.relay.record_mapping(mapped, mapped_on_disk)
            else:
                self.relay.record_mapping(mapped)
                connection.send_message_id_response(pdu, _OK, gateway_id, tlvs)

        return answered

    # -- query_sm and cancel_sm ------------------------------------------------------------

    def on_query(self, bind: EsmeBind, pdu: Pdu) -> None:
        self.queries.on_query(bind, pdu)

    def on_cancel(self, bind: EsmeBind, pdu: Pdu) -> None:
        self.queries.on_cancel(bind, pdu)


def _classification_fields(decision: Decision) -> dict[str, object]:
    """What a log line says of the classifier: nothing when it was not asked."""
    classification = decision.classification
    if classification is None:
        return {"classified": False}
    return {
        "classified": True,
        "is_otp": classification.is_otp,
        "otp_score": classification.score,
        "language": classification.language,
    }
