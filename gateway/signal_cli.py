"""``otpgate signal``: post one network signal to a running gateway's operator API.

What an operator's feed does over MQTT or HTTP, by hand: ``otpgate signal sim-swap
+447400123123`` makes that number risky now, so the next OTP to it is held. It prints the
gateway's answer and exits 0 when the signal was taken, 1 when it was refused (the reason
is in the answer), 3 when the gateway could not be reached or refused the key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

TAKEN, REFUSED, UNREACHABLE = 0, 1, 3


def add_signal_command(commands: Any) -> None:
    """The ``signal`` sub-command and its kinds, on the CLI's sub-parsers."""
    signal = commands.add_parser(
        "signal",
        help="post a network signal (SIM swap, call forwarding, location) to a running gateway",
    )
    signal.add_argument("--api", default="http://127.0.0.1:8080", help="the operator API")
    signal.add_argument(
        "--key",
        default=os.environ.get("OTPGATE_OPERATOR_KEY"),
        help="the operator key, or $OTPGATE_OPERATOR_KEY",
    )
    signal.add_argument("--at", help="RFC 3339 time it happened (default: now)")
    kinds = signal.add_subparsers(dest="signal_kind", required=True)
    swap = kinds.add_parser("sim-swap", help="the number's SIM was changed")
    swap.add_argument("msisdn", help="E.164")
    swap.add_argument("--reason", help="e.g. esim_download, lost_stolen, upgrade")
    forward = kinds.add_parser("call-forwarding", help="call forwarding set (or cleared)")
    forward.add_argument("msisdn", help="E.164")
    forward.add_argument("--to", dest="forwarded_to", help="where calls now go, E.164")
    forward.add_argument("--service", default="cfu", choices=("cfu", "cfb", "cfnry", "cfnrc"))
    forward.add_argument("--off", action="store_true", help="the forwarding was cleared")
    location = kinds.add_parser("location", help="the number registered on a network")
    location.add_argument("msisdn", help="E.164")
    location.add_argument("--mcc-mnc", required=True, help="serving network, e.g. 23410")
    clear = kinds.add_parser("clear", help="the operator cleared the number's risk")
    clear.add_argument("msisdn", help="E.164")
    clear.add_argument(
        "--scope", default="all", choices=("all", "sim_swap", "call_forwarding", "routing")
    )


def post_signal(args: argparse.Namespace) -> int:
    if not args.key:
        print("error: --key or $OTPGATE_OPERATOR_KEY is required", file=sys.stderr)
        return 2
    signal = signal_of(args)
    if args.signal_kind == "call-forwarding" and not args.off and not args.forwarded_to:
        print("error: --to (where calls now go) or --off is required", file=sys.stderr)
        return 2
    request = urllib.request.Request(
        f"{args.api.rstrip('/')}/v1/signals",
        data=json.dumps(signal).encode(),
        headers={"Authorization": f"Bearer {args.key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode())
            return TAKEN
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        print(body, file=sys.stderr)
        return UNREACHABLE if error.code == 401 else REFUSED
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        print(f"error: cannot reach {args.api}: {reason}", file=sys.stderr)
        return UNREACHABLE


def signal_of(args: argparse.Namespace) -> dict[str, Any]:
    """The signal as DESIGN.md's JSON form; the gateway checks it."""
    at = args.at or datetime.now(UTC).isoformat(timespec="seconds")
    common = {"msisdn": args.msisdn, "occurred_at": at, "source": "otpgate-cli"}
    kind = args.signal_kind
    if kind == "sim-swap":
        extra = {"reason": args.reason} if args.reason else {}
        return {"kind": "sim_swap", **common, **extra}
    if kind == "call-forwarding":
        forwarding: dict[str, Any] = {"service": args.service, "active": not args.off}
        if args.forwarded_to:
            forwarding["forwarded_to"] = args.forwarded_to
        return {"kind": "call_forwarding", **common, **forwarding}
    if kind == "location":
        return {"kind": "location_update", **common, "serving_mcc_mnc": args.mcc_mnc}
    return {"kind": "clearance", **common, "scope": args.scope}
