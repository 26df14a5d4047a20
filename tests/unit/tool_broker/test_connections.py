"""The replica's own connections: who serves which server, and what happens to calls when one goes away."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from nats.aio.client import Client

from switchboard.common.events import utc_now
from switchboard.common.subjects import Subjects
from switchboard.common.tool_events import ExecuteToolCall
from switchboard.tool_broker.connections import Connection, ConnectionRegistry, ServerKey
from switchboard.tool_broker.local_delivery import LocalDelivery, Refusal
from switchboard.tool_broker.token_bucket import TokenBucket


@dataclass
class Socket:
    sent: list[str] = field(default_factory=list)

    async def send_text(self, data: str) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        return None


def connection(connection_id: str, user_id: str = "alice") -> Connection:
    return Connection(connection_id, user_id, "digest", Socket(), TokenBucket(10, 10))


def call(call_id: str, *, user_id: str = "alice", excluded: str | None = None, age: float = 0) -> ExecuteToolCall:
    return ExecuteToolCall(
        request_id="req_1", user_id=user_id, call_id=call_id, server_id="fs", tool_name="read", timeout_s=60,
        excluded_connection=excluded, occurred_at=utc_now() - timedelta(seconds=age),
    )  # fmt: skip


async def test_a_servers_set_changes_are_reported() -> None:
    registry = ConnectionRegistry()
    changes: list[tuple[ServerKey, bool]] = []

    async def changed(key: ServerKey) -> None:
        changes.append((key, registry.serves(key)))

    registry.on_change = changed
    first, second = connection("c1"), connection("c2")
    registry.add(first)
    registry.add(second)
    await registry.serve(first, "fs", ["read"])
    await registry.serve(second, "fs", ["read"])
    await registry.serve(second, "git", ["log"])  # moves to another server
    assert registry.count_of("alice") == 2
    assert await registry.remove(first) == []
    assert changes == [(("alice", "fs"), True), (("alice", "fs"), True), (("alice", "git"), True),
                       (("alice", "fs"), True), (("alice", "fs"), False)]  # fmt: skip
    assert registry.count_of("alice") == 1 and len(registry) == 1


async def test_delivery_picks_a_connection_of_the_calls_own_user_and_server() -> None:
    registry = ConnectionRegistry()
    delivery = LocalDelivery(cast(Client, None), Subjects("t"), registry, max_inflight=1)
    mine, excluded, other_user = connection("c1"), connection("c2"), connection("c3", user_id="alice_")
    for each in (mine, excluded, other_user):
        registry.add(each)
        await registry.serve(each, "fs", ["read"])
    assert await delivery.deliver(call("t1", excluded="c2")) is None
    assert list(mine.inflight) == ["t1"] and '"call_id":"t1"' in cast(Socket, mine.socket).sent[0]
    assert await delivery.deliver(call("t2", excluded="c2")) is Refusal.BUSY
    assert await delivery.deliver(call("t3", user_id="bob")) is Refusal.NONE_CONNECTED
    assert await delivery.deliver(call("t4", age=120)) is Refusal.EXPIRED


async def test_a_closed_connection_hands_back_its_calls_and_takes_no_more() -> None:
    registry = ConnectionRegistry()
    delivery = LocalDelivery(cast(Client, None), Subjects("t"), registry, max_inflight=5)
    gone = connection("c1")
    registry.add(gone)
    await registry.serve(gone, "fs", ["read"])
    await delivery.deliver(call("t1"))
    orphans = await registry.remove(gone)
    assert [orphan.call_id for orphan in orphans] == ["t1"] and gone.inflight == {}
    assert await delivery.deliver(call("t2")) is Refusal.NONE_CONNECTED
    assert await registry.remove(gone) == []
