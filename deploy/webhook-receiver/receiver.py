"""A sample receiver of otpgate's webhooks: verify the Standard Webhooks signature, print the event.

otpgate signs every request with ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (HMAC-SHA256 over ``id.timestamp.body``) and sends a CloudEvents 1.0
JSON body. This receiver checks the signature and the timestamp (5 minutes' tolerance)
with the ``standardwebhooks`` package and prints one JSON line per event: its ``type`` and
its ``data``, and nothing else (no headers, no secret, no raw body). A request that does
not verify gets 401 and prints nothing; a redelivery of an id already printed gets 204
again and is not printed twice (otpgate retries until it sees a 2xx).

    WEBHOOK_SECRET=whsec_... python receiver.py --host 0.0.0.0 --port 9000

``WEBHOOK_SECRET`` is the ``secret`` that ``POST /v1/webhooks`` (or ``rotate-secret``)
returned; during a rotation give both, space-separated. Needs aiohttp and standardwebhooks
(requirements.txt). A sample: put it behind TLS before it leaves a lab.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, TextIO

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SEEN_IDS = 10_000  # webhook-ids remembered for de-duplication
MAX_BODY_BYTES = 256 * 1024


class Receiver:
    """Verifies one request and prints its event; no I/O besides the output stream."""

    def __init__(self, secrets: list[str], out: TextIO) -> None:
        self.verifiers = [Webhook(secret) for secret in secrets]
        self.out = out
        self.seen: OrderedDict[str, None] = OrderedDict()

    def receive(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The HTTP status to answer with."""
        if not self.verifiers:
            return 503
        plain = {k.lower(): v for k, v in headers.items()}
        event = self._verified(body, plain)
        if event is None:
            return 401
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return 400
        msg_id = plain["webhook-id"]
        if msg_id in self.seen:
            return 204
        self.seen[msg_id] = None
        if len(self.seen) > SEEN_IDS:
            self.seen.popitem(last=False)
        line = {"type": event["type"], "data": event.get("data")}
        print(json.dumps(line, ensure_ascii=False, sort_keys=True), file=self.out, flush=True)
        return 204

    def _verified(self, body: bytes, headers: dict[str, str]) -> Any:
        for verifier in self.verifiers:
            try:
                return verifier.verify(body, headers)
            # ValueError: a malformed signature, base64, UTF-8 or JSON (the package
            # raises those as they come, not as WebhookVerificationError).
            except (WebhookVerificationError, ValueError):
                continue
        return None


def build_app(receiver: Receiver, path: str = "/webhooks") -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(status=receiver.receive(body, request.headers))

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(status=200 if receiver.verifiers else 503)

    app.router.add_post(path, webhook)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--path", default="/webhooks")
    args = parser.parse_args(argv)
    secrets = os.environ.get("WEBHOOK_SECRET", "").split()
    try:
        receiver = Receiver(secrets, sys.stdout)
    except Exception:  # the package raises several types for a malformed secret
        print("error: WEBHOOK_SECRET is not a whsec_... secret", file=sys.stderr)
        return 2
    if not secrets:
        print(
            "WEBHOOK_SECRET is not set: answering 503 until restarted with the secret that "
            "POST /v1/webhooks returned",
            file=sys.stderr,
        )
    # No access log and no banner: stdout carries the events and nothing else.
    web.run_app(
        build_app(receiver, args.path), host=args.host, port=args.port, access_log=None, print=None
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
