"""The ``otpgate`` command: run, smsc-sim, send, signal, simulate, classify, policy, export, demo,
hash-password."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config, load_config
from .config_reader import ConfigError
from .signal_cli import add_signal_command, post_signal

if TYPE_CHECKING:
    from .app import Gateway


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otpgate")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otpgate", description="SMS-hijack detection gateway")
    parser.add_argument("--version", action="version", version=f"otpgate {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the gateway (embedded defaults without --config)")
    run.add_argument("--config", type=Path, help="TOML configuration file")
    run.add_argument(
        "--uvloop", action="store_true", help="use uvloop (pip install 'otpgate[speed]')"
    )

    commands.add_parser("smsc-sim", help="run the SMSC simulator", add_help=False)

    export = commands.add_parser(
        "export", help="held, dropped and cancelled messages as CSV or JSON Lines (no text)"
    )
    export.add_argument("--data-dir", type=Path, default=Path("otpgate-data"))
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument(
        "--state", action="append", help="held, released, cancelled, expired, failed (repeatable)"
    )
    export.add_argument("--since", help="RFC 3339 time")
    export.add_argument("--until", help="RFC 3339 time")

    demo = commands.add_parser("demo", help="a day in the life of otpgate, in under a minute")
    demo.add_argument("--short", action="store_true", help="300 messages instead of 3,000")

    add_signal_command(commands)

    send = commands.add_parser(
        "send",
        help="send one SMS through a gateway (a small ESME)",
        epilog="exit status: 0 accepted (and delivered, when a receipt is awaited), 1 refused or "
        "undelivered, 2 bad argument, 3 no bind, 4 no receipt within --timeout (held for "
        "review, or not delivered yet)",
    )
    send.add_argument("--to", required=True, help="destination, E.164")
    send.add_argument("--text", required=True)
    send.add_argument("--from", dest="source", default="otpgate")
    send.add_argument("--host", default="127.0.0.1")
    send.add_argument("--port", type=int, default=2775)
    send.add_argument("--system-id", default="demo")
    send.add_argument(
        "--password", default=os.environ.get("OTPGATE_PASSWORD"), help="or $OTPGATE_PASSWORD"
    )
    send.add_argument(
        "--no-receipt", action="store_true", help="do not wait for the delivery receipt"
    )
    send.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the answer and receipt"
    )

    simulate = commands.add_parser(
        "simulate", help="replay a scenario (JSON Lines) on a simulated clock"
    )
    simulate.add_argument("scenario", type=Path)
    simulate.add_argument("--policy", type=Path, help="policy file (default: the shipped policy)")

    classify = commands.add_parser(
        "classify", help="is each text an OTP? one JSON line per text (never the text)"
    )
    classify.add_argument(
        "file",
        nargs="?",
        default="-",
        help="one text per line, or JSON Lines with 'text' (- = stdin)",
    )
    classify.add_argument(
        "--threshold", type=float, default=None, help="score from which a text is an OTP"
    )

    policy = commands.add_parser("policy", help="check or explain a policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file", type=Path)
    explain = policy_commands.add_parser("explain", help="the decision for one message, and why")
    explain.add_argument("--policy", type=Path)
    explain.add_argument(
        "--signals", type=Path, help="JSON Lines of signals (objects, or {at, signal} lines)"
    )
    explain.add_argument("--at", required=True, help="RFC 3339 time of the message")
    explain.add_argument("--to", required=True, help="destination, E.164")
    explain.add_argument("--text", required=True)
    explain.add_argument("--account", default="explain")
    explain.add_argument("--from", dest="source", default="explain")

    hashpw = commands.add_parser("hash-password", help="print the scrypt hash of an SMPP password")
    hashpw.add_argument(
        "--stdin", action="store_true", help="read the password from standard input"
    )

    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "smsc-sim":
        from smpp_adapters.simulator import main as simulator_main

        return simulator_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args.config, args.uvloop)
    if args.command == "export":
        return _export(args)
    if args.command == "demo":
        from .demo import main as demo_main

        return demo_main(args.short)
    if args.command == "send":
        from .send import send_one

        return send_one(args)
    if args.command == "simulate":
        from .simulate import simulate as run_simulation

        return run_simulation(args.scenario, args.policy)
    if args.command == "signal":
        return post_signal(args)
    if args.command == "classify":
        from policies.classifier import DEFAULT_THRESHOLD

        from .classify_cli import run as classify_texts

        threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        return classify_texts(args.file, threshold)
    if args.command == "policy":
        from .policy_cli import check_policy, explain_message

        return check_policy(args.file) if args.policy_command == "check" else explain_message(args)
    if args.command == "hash-password":
        from .passwords import hash_password

        if args.stdin:
            password = sys.stdin.readline().rstrip("\n")
        elif not sys.stdin.isatty():
            print(
                "error: no terminal to ask on: pipe the password in with --stdin", file=sys.stderr
            )
            return 2
        else:
            try:
                password = getpass.getpass("SMPP password: ")
            except (EOFError, KeyboardInterrupt):
                print(file=sys.stderr)
                return 2
        if not password or len(password) > 8:
            print("error: an SMPP 3.4 password has 1 to 8 characters", file=sys.stderr)
            return 2
        print(hash_password(password))
        return 0
    return 2


def _export(args: argparse.Namespace) -> int:
    from datetime import datetime

    from .export import DEFAULT_STATES, export

    try:
        since = datetime.fromisoformat(args.since).timestamp() if args.since else None
        until = datetime.fromisoformat(args.until).timestamp() if args.until else None
        count = export(
            args.data_dir,
            fmt=args.format,
            states=tuple(args.state or DEFAULT_STATES),
            since=since,
            until=until,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{count} rows", file=sys.stderr)
    return 0


def _run(config_path: Path | None, use_uvloop: bool) -> int:
    from .embedded import DEMO_TENANT, embedded_banner, embedded_config
    from .logs import configure_logging

    banner: Callable[[Gateway], Awaitable[str]] | None = None
    if config_path is None:
        config, password, operator_key = embedded_config()

        async def banner(gateway: Gateway) -> str:
            # Printed once everything listens: no credentials before a port-in-use failure.
            key, _ = await gateway.api_keys.create(DEMO_TENANT, gateway.clock.now())
            return embedded_banner(
                gateway.smpp_port,
                gateway.api_port,
                gateway.tenant_api_port,
                password,
                operator_key,
                key,
            )
    else:
        try:
            config = load_config(config_path)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    configure_logging(config.log_level, config.log_format)
    if use_uvloop:
        import uvloop

        uvloop.install()
    try:
        asyncio.run(_serve(config, banner))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: Config, banner: Callable[[Gateway], Awaitable[str]] | None) -> None:
    from .app import Gateway

    gateway = Gateway(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await gateway.start()
    if banner is not None:
        print(await banner(gateway), flush=True)

    async def reload_everything() -> None:
        try:
            if Path(gateway.config.source).is_file():
                await gateway.reload_config()
            else:  # embedded defaults: only the policy comes from a file
                gateway.reload_policy()
        except ValueError as error:  # ConfigError or PolicyError: the old configuration stays
            print(f"reload refused: {error}", file=sys.stderr)

    reloads: set[asyncio.Task[None]] = set()

    def reload() -> None:
        task = loop.create_task(reload_everything())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


if __name__ == "__main__":
    raise SystemExit(main())
