"""One log stream: the standard library's records (aiohttp, asyncio, paho) come out as the same
redacted JSON lines as otpgate's own, and the event loop's errors are rate-limited."""

from __future__ import annotations

import json
import logging

import structlog

from gateway.logs import LoopErrors, configure_logging


def test_a_standard_library_record_is_a_redacted_json_line(capsys) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("info", "json")
        try:
            raise ValueError("no route to +447400123123")
        except ValueError:
            logging.getLogger("aiohttp.server").exception("Error handling request")
        structlog.get_logger("otpgate.test").info("own_line", msisdn="+447400123123")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    finally:
        root.handlers, root.level = saved
        structlog.reset_defaults()
    foreign, own = lines
    assert foreign["event"] == "Error handling request" and foreign["level"] == "error"
    assert foreign["logger"] == "aiohttp.server" and "ValueError" in foreign["exception"]
    assert "447400123123" not in json.dumps(lines)  # pseudonymised in both
    assert own["event"] == "own_line" and own["msisdn"].startswith("msisdn:")


class _Loop:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


def test_the_same_loop_error_is_one_line_per_interval_with_a_count() -> None:
    handler, loop = LoopErrors(interval_s=10.0), _Loop()
    context = {"message": "socket.accept() out of system resource", "exception": OSError(24, "x")}
    with structlog.testing.capture_logs() as lines:
        for second in range(25):
            loop.now = float(second)
            for _ in range(1000):
                handler(loop, context)
    assert [line["repeats_not_logged"] for line in lines] == [0, 9999, 9999]
