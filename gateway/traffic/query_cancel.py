"""query_sm and cancel_sm from an ESME: a message held here is answered here (en route, or
cancelled as a hold); any other is asked of the upstream under its own id, and the answer
comes back under the gateway's."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from smpp_adapters.constants import CommandId, CommandStatus, status_name
from smpp_adapters.pdu import ParamValue, Pdu

from .id_map import IdMap
from .router import Router

if TYPE_CHECKING:
    from ..holds.book import HoldBook
    from ..holds.store import HoldRecord
    from .esme_binds import EsmeBind

log = structlog.get_logger("otpgate.pipeline")

_OK = CommandStatus.ESME_ROK
# The upstream took the request but its answer never came: the outcome is unknown. The
# ESME may retry; an OTP sent twice is better than one lost.
UNKNOWN_OUTCOME = CommandStatus.ESME_RSYSERR


class QueryAndCancel:
    """The answers to query_sm and cancel_sm, for the pipeline that took the submit_sm."""

    def __init__(self, holds: HoldBook | None, id_map: IdMap, router: Router) -> None:
        self.holds = holds
        self.id_map = id_map
        self.router = router

    def on_query(self, bind: EsmeBind, pdu: Pdu) -> None:
        held = self._open_hold(bind, pdu)
        if held is not None:  # not at the SMSC yet: en route, as far as the ESME knows
            fields: dict[str, ParamValue] = {
                "message_id": held.id,
                "final_date": "",
                "message_state": 1,
                "error_code": 0,
            }
            bind.connection.send_response(pdu, _OK, fields)
            return
        asyncio.get_running_loop().create_task(
            self._ask_upstream(bind, pdu, CommandStatus.ESME_RQUERYFAIL)
        )

    def on_cancel(self, bind: EsmeBind, pdu: Pdu) -> None:
        held = self._open_hold(bind, pdu)
        if held is not None:
            asyncio.get_running_loop().create_task(self._cancel_hold(bind, pdu, held.id))
            return
        asyncio.get_running_loop().create_task(
            self._ask_upstream(bind, pdu, CommandStatus.ESME_RCANCELFAIL)
        )

    def _open_hold(self, bind: EsmeBind, pdu: Pdu) -> HoldRecord | None:
        if self.holds is None:
            return None
        return self.holds.find_open(str(pdu.params.get("message_id", "")), bind.account.system_id)

    async def _cancel_hold(self, bind: EsmeBind, pdu: Pdu, hold_id: str) -> None:
        actor = f"esme:{bind.account.system_id}"
        try:
            await self.holds.cancel(hold_id, actor, "cancel_sm")  # type: ignore[union-attr]
        except Exception as error:  # released meanwhile, or the store failed
            log.info("hold_cancel_refused", hold=hold_id, error=str(error))
            bind.connection.send_response(pdu, CommandStatus.ESME_RCANCELFAIL)
            return
        bind.connection.send_response(pdu, _OK)

    async def _ask_upstream(self, bind: EsmeBind, pdu: Pdu, failure: int) -> None:
        """Translate the gateway id to the upstream's, ask, and translate the answer back."""
        connection = bind.connection
        gateway_id = str(pdu.params["message_id"])
        mapped = await self.id_map.by_gateway_id(gateway_id)
        # Another account's message is answered as unknown: ids leak nothing across accounts.
        if mapped is None or mapped.account != bind.account.system_id:
            connection.send_response(pdu, failure)
            return
        pool = self.router.pool_for_route(mapped.account, mapped.route)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Pdu | None] = loop.create_future()
        upstream_pdu = pdu.evolve(message_id=mapped.upstream_id)
        if pool is None or not pool.send_query(upstream_pdu, answer.set_result):
            connection.send_response(pdu, CommandStatus.ESME_RTHROTTLED)
            return
        response = await answer
        if response is None:
            connection.send_response(pdu, UNKNOWN_OUTCOME)
        elif pdu.command_id == CommandId.QUERY_SM and response.command_status == _OK:
            connection.send_response(pdu, _OK, {**response.params, "message_id": gateway_id})
        else:
            connection.send_response(pdu, response.command_status)
        log.debug(
            "upstream_asked",
            account=bind.account.system_id,
            message_id=gateway_id,
            status=status_name(response.command_status) if response else None,
        )
