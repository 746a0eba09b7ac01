"""Cluster commands run at most once, only on their node, and never after their sender gave up."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest

from gateway.cluster import ClusterBus, sign
from gateway.config import ConfigError, MqttConfig, load_config
from gateway.traffic.message_ids import node_number

SECRET = b"cluster-secret"


class Bus:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.published: list[dict] = []
        self.seen: set[str] = set()

        async def handler(op: str, args: dict) -> tuple[int, object]:
            self.ran.append(op)
            return 200, None

        async def remember(command_id: str, expires: float) -> bool:
            if command_id in self.seen:
                return False
            self.seen.add(command_id)
            return True

        self.bus = ClusterBus(
            MqttConfig(host="127.0.0.1"), "node-1", ("node-1", "node-2"), SECRET, handler, remember
        )

        async def publish(topic: str, message: dict) -> None:
            self.published.append(message)

        self.bus._publish = publish  # type: ignore[method-assign]

    async def deliver(self, command: dict) -> None:
        command["sig"] = sign(SECRET, command)
        message = SimpleNamespace(
            payload=json.dumps(command).encode(),
            topic=SimpleNamespace(value=self.bus.commands),
        )
        self.bus._on_message(message)  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        await asyncio.gather(*self.bus._tasks)


def command(**fields: object) -> dict:
    now = time.time()
    return {"id": "c1", "from": "node-2", "to": "node-1", "ts": now, "expires": now + 3,
            "op": "release", "args": {}} | fields  # fmt: skip


@pytest.mark.asyncio
async def test_a_command_runs_once_even_when_replayed() -> None:
    node = Bus()
    await node.deliver(command())
    await node.deliver(command())  # the same id again: a replay
    node.bus._seen.clear()  # as after a restart: only the durable record remains
    await node.deliver(command())
    assert node.ran == ["release"] and len(node.published) == 1


@pytest.mark.asyncio
async def test_a_command_past_its_expiry_or_for_another_node_is_dropped() -> None:
    node = Bus()
    await node.deliver(command(id="late", expires=time.time() - 0.1))
    await node.deliver(command(id="other", to="node-2"))
    assert node.ran == [] and node.published == []


def test_two_node_ids_with_one_node_number_refuse_to_start(tmp_path, monkeypatch) -> None:
    names: dict[int, str] = {}
    clash = None
    for n in range(100_000):
        name = f"node-{n}"
        other = names.setdefault(node_number(name), name)
        if other != name:
            clash = (other, name)
            break
    assert clash is not None
    monkeypatch.setenv("SECRET", "s")
    path = tmp_path / "gateway.toml"
    path.write_text(
        f'[node]\nid = "{clash[0]}"\n[signals.mqtt]\nhost = "127.0.0.1"\n'
        "[smpp.upstream]\nsimulator = true\n"
        f'[cluster]\nnodes = ["{clash[0]}", "{clash[1]}"]\nsecret_env = "SECRET"\n'
    )
    with pytest.raises(ConfigError, match=rf"{clash[0]}.*{clash[1]}"):
        load_config(path)
