"""Errors of the SMPP core: the peer's mistakes carry the status to answer with; ours are separate."""

from __future__ import annotations

from .constants import CommandStatus


class SmppError(Exception):
    """Base of every error the SMPP core raises."""


class PduError(SmppError):
    """The peer sent bytes that are not a valid PDU.

    ``command_status`` is what to answer with; ``fatal`` says the framing is lost and the
    connection must close after a generic_nack (e.g. an impossible command_length).
    ``command_id`` and ``sequence_number`` are those of the offending PDU when they could be read.
    """

    def __init__(
        self,
        message: str,
        command_status: int,
        *,
        fatal: bool = False,
        command_id: int = 0,
        sequence_number: int = 0,
    ) -> None:
        super().__init__(message)
        self.command_status = command_status
        self.fatal = fatal
        self.command_id = command_id
        self.sequence_number = sequence_number

    def __repr__(self) -> str:
        status = (
            CommandStatus(self.command_status).name
            if self.command_status in CommandStatus._value2member_map_
            else hex(self.command_status)
        )
        return f"PduError({self.args[0]!r}, {status}, fatal={self.fatal})"


class LocalProtocolError(SmppError):
    """This side tried something SMPP does not allow (a bug or a misuse, never the peer's fault)."""
