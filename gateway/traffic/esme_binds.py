"""The ESME-facing handler: vets binds, knows who is bound, and hands requests to the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from smpp_adapters import events as ev
from smpp_adapters.constants import INTERFACE_VERSION_34, CommandStatus, Tag, status_name
from smpp_adapters.pdu import Pdu
from smpp_adapters.transport import SmppConnection

from ..accounts import AccountBook, Lockout
from ..config import AccountConfig

log = structlog.get_logger("otpgate.esme")

_MODES = {"bound_tx": "tx", "bound_rx": "rx", "bound_trx": "trx"}


class Requests(Protocol):
    """What takes a bound ESME's requests on (the pipeline)."""

    def on_submit(self, bind: EsmeBind, pdu: Pdu) -> None: ...

    def on_query(self, bind: EsmeBind, pdu: Pdu) -> None: ...

    def on_cancel(self, bind: EsmeBind, pdu: Pdu) -> None: ...


@dataclass(eq=False, slots=True)
class EsmeBind:
    """One bound ESME connection and what the gateway keeps about it."""

    account: AccountConfig
    mode: str
    connection: SmppConnection
    tokens: float = 0.0
    refilled_at: float = 0.0
    binding: bool = field(default=False)

    @property
    def can_receive(self) -> bool:
        return self.mode in ("rx", "trx") and self.connection.is_open


class EsmeBinds:
    """Implements the server's ConnectionHandler."""

    def __init__(
        self,
        accounts: AccountBook,
        lockout: Lockout,
        system_id: str = "otpgate",
        protocol_error_log_lines: int = 10,
    ) -> None:
        self.accounts = accounts
        self.lockout = lockout
        self.system_id = system_id
        self.protocol_error_log_lines = protocol_error_log_lines
        # connection -> (lines logged, last line at, lines left out since): a peer that sends
        # garbage in a loop must not fill the disk with log lines.
        self._error_lines: dict[SmppConnection, tuple[int, float, int]] = {}
        self.pipeline: Requests | None = None
        # Called when a receiver binds: pending receipts go out; and when one has left (after
        # its session's end is drained): receipts queued for the account find another, or disk.
        self.on_receiver_bound: list[Callable[[EsmeBind], None]] = []
        self.on_receiver_gone: list[Callable[[EsmeBind], None]] = []
        self._binds: dict[str, list[EsmeBind]] = {}
        self._receivers: dict[str, list[EsmeBind]] = {}
        self._next_receiver: dict[str, int] = {}
        self._connections: set[SmppConnection] = set()

    # -- queries ---------------------------------------------------------------------------

    def binds_of(self, account: str) -> list[EsmeBind]:
        return self._binds.get(account, [])

    def receivers_of(self, account: str) -> list[EsmeBind]:
        """The account's receiver and transceiver binds."""
        return self._receivers.get(account, [])

    def has_open_receiver(self, account: str) -> bool:
        """Whether a receiver or transceiver bind of the account is open."""
        return any(bind.connection.is_open for bind in self._receivers.get(account, ()))

    def pick_receiver(self, account: str) -> EsmeBind | None:
        """A receiver/transceiver bind of the account with room in its window, round-robin."""
        binds = self._receivers.get(account)
        if not binds:
            return None
        count = len(binds)
        start = self._next_receiver.get(account, 0)
        for i in range(count):
            bind = binds[(start + i) % count]
            if bind.connection.session.can_send:
                self._next_receiver[account] = start + i + 1
                return bind
        return None

    @property
    def bind_count(self) -> int:
        return sum(len(b) for b in self._binds.values())

    # -- events ----------------------------------------------------------------------------

    def on_event(self, connection: SmppConnection, event: ev.Event) -> None:
        bind = connection.context
        match event:
            case ev.SubmitSmReceived(pdu) | ev.DataSmReceived(pdu):
                assert isinstance(bind, EsmeBind) and self.pipeline is not None  # session rules
                if bind.account.max_tps is not None and not self._take_token(bind):
                    connection.send_response(pdu, CommandStatus.ESME_RTHROTTLED)
                    return
                self.pipeline.on_submit(bind, pdu)
            case ev.BindRequested(pdu):
                asyncio.get_running_loop().create_task(self._bind(connection, pdu))
            case ev.QuerySmReceived(pdu):
                assert isinstance(bind, EsmeBind) and self.pipeline is not None
                self.pipeline.on_query(bind, pdu)
            case ev.CancelSmReceived(pdu):
                assert isinstance(bind, EsmeBind) and self.pipeline is not None
                self.pipeline.on_cancel(bind, pdu)
            case ev.ConnectionMade():
                self._connections.add(connection)
            case ev.SessionEnded(reason):
                self._connections.discard(connection)
                self._error_lines.pop(connection, None)
                if isinstance(bind, EsmeBind):
                    self._unregister(bind)
                    log.info(
                        "esme_unbound",
                        account=bind.account.system_id,
                        mode=bind.mode,
                        reason=reason,
                    )
            case ev.PduRejected(error):
                left_out = self._error_budget(connection)
                if left_out is None:
                    return
                log.warning(
                    "esme_pdu_rejected",
                    peer=connection.peer[0] if connection.peer else None,
                    account=bind.account.system_id if isinstance(bind, EsmeBind) else None,
                    status=status_name(error.command_status),
                    fatal=error.fatal,
                    error=str(error)[:200],
                    lines_left_out=left_out,
                )

    def _error_budget(self, connection: SmppConnection) -> int | None:
        """How many protocol-error lines were left out before this one, or None: leave it out.

        The first ``protocol_error_log_lines`` of a connection are logged, then one a minute.
        """
        now = connection.loop.time()
        logged, at, left_out = self._error_lines.get(connection, (0, 0.0, 0))
        if logged >= self.protocol_error_log_lines and now - at < 60.0:
            self._error_lines[connection] = (logged, at, left_out + 1)
            return None
        self._error_lines[connection] = (logged + 1, now, 0)
        return left_out

    def _take_token(self, bind: EsmeBind) -> bool:
        now = bind.connection.loop.time()
        rate = bind.account.max_tps or 0.0
        bind.tokens = min(rate, bind.tokens + (now - bind.refilled_at) * rate)
        bind.refilled_at = now
        if bind.tokens >= 1.0:
            bind.tokens -= 1.0
            return True
        return False

    async def _bind(self, connection: SmppConnection, pdu: Pdu) -> None:
        if connection.context is not None:  # a second bind while the first is being checked
            connection.send_response(pdu, CommandStatus.ESME_RALYBND)
            return
        connection.context = "binding"
        loop = asyncio.get_running_loop()
        ip = connection.peer[0] if connection.peer else "?"
        system_id = str(pdu.params["system_id"])
        status: int
        account: AccountConfig | None
        if not self.lockout.begin(ip, system_id, loop.time()):
            status, account, why = CommandStatus.ESME_RBINDFAIL, None, "locked out"
        else:
            # scrypt costs tens of milliseconds: keep it off the event loop.
            status, account = await loop.run_in_executor(
                None, self.accounts.check_bind, system_id, str(pdu.params["password"]), ip
            )
            why = status_name(status)
            if status == CommandStatus.ESME_RINVSYSID:
                # The same answer as a wrong password: no guessing which system_ids exist.
                status = CommandStatus.ESME_RINVPASWD
            elif account is not None:
                self.lockout.succeeded(ip, system_id)
                if len(self._binds.get(account.system_id, ())) >= account.max_binds:
                    status, account, why = CommandStatus.ESME_RBINDFAIL, None, "max_binds"
        if account is not None and not connection.is_open:
            # Gone while its password was checked: nothing to answer, nothing refused.
            log.info("esme_bind_abandoned", peer=ip, system_id=system_id)
            connection.context = None
            return
        if account is None:
            log.warning(
                "esme_bind_refused",
                peer=ip,
                system_id=system_id,
                status=status_name(status),
                why=why,
            )
            connection.send_response(pdu, status)
            connection.context = None
            connection.close("bind refused")
            return
        tlvs = [(int(Tag.SC_INTERFACE_VERSION), bytes((INTERFACE_VERSION_34,)))]
        connection.send_response(pdu, CommandStatus.ESME_ROK, {"system_id": self.system_id}, tlvs)
        connection.session.incoming_window = account.window
        bind = EsmeBind(
            account, _MODES[connection.session.state.value], connection, refilled_at=loop.time()
        )
        bind.tokens = account.max_tps or 0.0
        connection.context = bind
        self._binds.setdefault(account.system_id, []).append(bind)
        if bind.mode in ("rx", "trx"):
            self._receivers.setdefault(account.system_id, []).append(bind)
        log.info(
            "esme_bound",
            account=account.system_id,
            mode=bind.mode,
            peer=ip,
            interface_version=connection.session.peer_interface_version,
        )
        if bind.can_receive:
            for callback in self.on_receiver_bound:
                callback(bind)

    def _unregister(self, bind: EsmeBind) -> None:
        for index in (self._binds, self._receivers):
            binds = index.get(bind.account.system_id)
            if binds and bind in binds:
                binds.remove(bind)
        if bind.mode in ("rx", "trx"):
            for callback in self.on_receiver_gone:
                callback(bind)

    def drop_account(self, account: str) -> int:
        """An account removed from the configuration: unbind its sessions; others untouched."""
        loop = asyncio.get_running_loop()
        binds = list(self._binds.get(account, []))
        for bind in binds:
            connection = bind.connection
            if connection.session.bound:
                connection.session.unbind(loop.time())
                connection.flush()
            else:
                connection.close("account removed")
        return len(binds)

    async def close_all(self, timeout_s: float = 5.0) -> None:
        """Unbind every ESME (graceful shutdown) and wait for the connections to close."""
        loop = asyncio.get_running_loop()
        connections = list(self._connections)
        for connection in connections:
            if connection.session.bound:
                connection.session.unbind(loop.time())
                connection.flush()
            else:
                connection.close("shutdown")
        for connection in connections:
            try:
                await asyncio.wait_for(connection.closed.wait(), timeout_s)
            except TimeoutError:
                connection.abort()
