"""Several nodes on one MQTT broker cluster: a hold's requests go to the node that owns it.

Holds live on the node that accepted them (its id is in the hold id). A release, cancel or
look-up of another node's hold is sent to ``<prefix>/nodes/<owner>/commands``; the owner
answers on ``<prefix>/nodes/<asker>/replies``. Both are signed with HMAC-SHA256 under a
secret every node shares. A command names the node it is for and the instant its sender
stops waiting (``expires``): a node drops a command for another node, one past its expiry
(the sender has told its caller it failed) and one whose id it has carried out before, the
ids being recorded on disk before the command runs (``remember``), so a replay after a
restart is dropped too. No home-made cluster protocol beyond that: the broker carries
everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
import structlog

from .config import MqttConfig
from .traffic.message_ids import node_number

log = structlog.get_logger("otpgate.cluster")

Handler = Callable[[str, dict[str, Any]], Awaitable[tuple[int, Any]]]
# (command id, its expiry) -> True when it was new and is now recorded durably.
Remember = Callable[[str, float], Awaitable[bool]]
_MAX_SKEW_S = 60.0
_SEQUENCE_BITS = 12
_NODE_MASK = (1 << 10) - 1


class NodeUnavailable(Exception):
    """The owner did not answer in time: its holds are safe on its disk, not reachable now."""


def sign(secret: bytes, message: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in message.items() if k != "sig"}, sort_keys=True)
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


class ClusterBus:
    def __init__(
        self,
        mqtt: MqttConfig,
        node_id: str,
        nodes: tuple[str, ...],
        secret: bytes,
        handler: Handler,
        remember: Remember | None = None,
    ) -> None:
        self.mqtt = mqtt
        self.node_id = node_id
        self.peers = tuple(n for n in nodes if n != node_id)
        self._owners = {node_number(n): n for n in nodes}
        self.secret = secret
        self.handler = handler
        self.remember = remember
        prefix = mqtt.prefix
        self.commands = f"{prefix}/nodes/{node_id}/commands"
        self.replies = f"{prefix}/nodes/{node_id}/replies"
        self._prefix = prefix
        self._client: aiomqtt.Client | None = None
        self._waiting: dict[str, asyncio.Future[tuple[int, Any]]] = {}
        self._seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    def owner_of(self, gateway_id: str) -> str | None:
        """The node that issued a gateway id (decimal ids), or None when unknown."""
        try:
            value = int(gateway_id)
        except ValueError:
            return None
        return self._owners.get((value >> _SEQUENCE_BITS) & _NODE_MASK)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cluster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = self.mqtt.reconnect_min_s
        while True:
            try:
                async with aiomqtt.Client(
                    self.mqtt.host,
                    self.mqtt.port,
                    identifier=f"{self.mqtt.client_id}-cluster",
                    username=self.mqtt.username,
                    password=self.mqtt.password,
                    clean_session=True,  # commands are answered now or not at all
                ) as client:
                    self._client = client
                    await client.subscribe([(self.commands, 1), (self.replies, 1)])
                    self.connected.set()
                    delay = self.mqtt.reconnect_min_s
                    async for message in client.messages:
                        self._on_message(message)
            except aiomqtt.MqttError as error:
                log.warning("cluster_disconnected", error=str(error))
            finally:
                self._client = None
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(self.mqtt.reconnect_max_s, delay * 2)

    def _verified(self, payload: object) -> dict[str, Any] | None:
        try:
            message = json.loads(payload)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if not isinstance(message, dict) or not isinstance(message.get("sig"), str):
            return None
        if not hmac.compare_digest(message["sig"], sign(self.secret, message)):
            return None
        now = time.time()
        if abs(now - float(message.get("ts", 0))) > _MAX_SKEW_S or message.get("id") in self._seen:
            return None
        self._seen[str(message.get("id"))] = now
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < _MAX_SKEW_S}
        return message

    def _on_message(self, message: aiomqtt.Message) -> None:
        verified = self._verified(message.payload)
        if verified is None:
            log.warning("cluster_message_dropped", topic=message.topic.value, why="bad signature")
            return
        if message.topic.value == self.replies:
            waiting = self._waiting.pop(str(verified.get("id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result((int(verified.get("status", 500)), verified.get("body")))
            return
        if verified.get("to") != self.node_id:
            log.warning(
                "cluster_message_dropped", topic=message.topic.value, why="for another node"
            )
            return
        task = asyncio.get_running_loop().create_task(self._answer(verified))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, command: dict[str, Any]) -> None:
        expires = float(command.get("expires", 0))
        if time.time() >= expires:
            log.warning("cluster_command_dropped", op=command.get("op"), why="expired")
            return
        if self.remember is not None and not await self.remember(str(command["id"]), expires):
            log.warning("cluster_command_dropped", op=command.get("op"), why="carried out before")
            return
        if time.time() >= expires:  # the record took too long: the sender gave up
            log.warning("cluster_command_dropped", op=command.get("op"), why="expired")
            return
        try:
            status, body = await self.handler(
                str(command.get("op")), dict(command.get("args") or {})
            )
        except Exception as error:  # the asker gets an answer either way
            log.exception("cluster_command_failed", op=command.get("op"))
            status, body = 500, {"message": str(error)}
        reply = {"id": command["id"], "ts": time.time(), "status": status, "body": body}
        reply["sig"] = sign(self.secret, reply)
        await self._publish(f"{self._prefix}/nodes/{command.get('from')}/replies", reply)

    async def _publish(self, topic: str, message: dict[str, Any]) -> None:
        if self._client is None:
            raise NodeUnavailable("not connected to the broker")
        await self._client.publish(topic, json.dumps(message), qos=1)

    async def ask(
        self, node: str, op: str, args: dict[str, Any], timeout_s: float = 3.0
    ) -> tuple[int, Any]:
        """Send a command to ``node`` and wait for its answer; NodeUnavailable on silence."""
        now = time.time()
        command_id = secrets.token_hex(16)
        command: dict[str, Any] = {
            "id": command_id,
            "from": self.node_id,
            "to": node,
            "ts": now,
            "expires": now + timeout_s,
            "op": op,
            "args": args,
        }
        command["sig"] = sign(self.secret, command)
        future: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        try:
            await self._publish(f"{self._prefix}/nodes/{node}/commands", command)
            return await asyncio.wait_for(future, timeout_s)
        except (TimeoutError, aiomqtt.MqttError) as error:
            raise NodeUnavailable(f"node {node} did not answer") from error
        finally:
            self._waiting.pop(command_id, None)
