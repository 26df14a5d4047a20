"""``switchboard metering replay``: send completions Lago refused back through billing, once the cause is fixed."""

from __future__ import annotations

import asyncio

import nats
from nats.errors import Error as NatsError

from switchboard.common.subjects import Subjects
from switchboard.metering.dead_letters import replay_dead_letters

__all__ = ["run_replay"]

_CONNECT_TIMEOUT = 5


def run_replay(nats_url: str, subjects: Subjects, limit: int | None) -> int:
    """Exit status 0 with the count printed; 1 when NATS cannot be reached."""
    try:
        replayed = asyncio.run(_replay(nats_url, subjects, limit))
    except (NatsError, OSError, TimeoutError) as exc:
        print(f"switchboard metering replay: cannot reach NATS at {nats_url}: {type(exc).__name__}")
        return 1
    print(f"replayed {replayed} dead-lettered completion{'s' if replayed != 1 else ''} into {subjects.usage_stream}")
    return 0


async def _replay(nats_url: str, subjects: Subjects, limit: int | None) -> int:
    nc = await nats.connect(nats_url, connect_timeout=_CONNECT_TIMEOUT, allow_reconnect=False)
    try:
        return await replay_dead_letters(nc, subjects, limit=limit)
    finally:
        await nc.close()
