"""Asks a service over NATS whether it is alive, the way an operator or a healthcheck would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import nats.errors

__all__ = ["ping_service"]


async def ping_service(url: str, subject: str) -> dict[str, Any]:
    """The service's answer, retrying while it is still starting (no responders yet)."""
    connection = await nats.connect(url)
    try:
        for _ in range(150):
            try:
                reply = await connection.request(subject, b"", timeout=2)
            except nats.errors.NoRespondersError:
                await asyncio.sleep(0.1)
                continue
            answer: dict[str, Any] = json.loads(reply.data)
            return answer
    finally:
        await connection.close()
    raise AssertionError(f"nobody answered on {subject}")
