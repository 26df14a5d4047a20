"""Listing a user's MCP tools survives the death of the broker replica that took the request."""

from __future__ import annotations

import asyncio
import secrets

import nats
from nats.aio.msg import Msg

from switchboard.common.subjects import TOOL_BROKER_QUEUE, Subjects
from switchboard.common.tool_events import McpTool, ToolsListed
from switchboard.orchestrator.agents.broker_client import LIST_TOOLS_TIMEOUT_SECONDS, ToolBroker


async def test_a_listing_lost_with_its_broker_is_asked_once_more_and_answered_by_another(nats_url: str) -> None:
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    orchestrator, dying, survivor = [await nats.connect(nats_url) for _ in range(3)]
    try:
        taken = asyncio.Event()

        async def swallow(msg: Msg) -> None:  # takes the request, then dies without answering
            taken.set()

        async def answer(msg: Msg) -> None:
            await msg.respond(ToolsListed(tools=[McpTool(server_id="notes", name="add")]).model_dump_json().encode())

        lost = await dying.subscribe(subjects.list_tools, queue=TOOL_BROKER_QUEUE, cb=swallow)
        await dying.flush()
        listing = asyncio.create_task(ToolBroker(orchestrator, subjects).list_tools("req_1", "alice"))
        await asyncio.wait_for(taken.wait(), timeout=5)
        await lost.unsubscribe()
        await survivor.subscribe(subjects.list_tools, queue=TOOL_BROKER_QUEUE, cb=answer)
        await survivor.flush()
        started = asyncio.get_running_loop().time()
        tools = await listing
        assert [tool.name for tool in tools] == ["add"]
        assert asyncio.get_running_loop().time() - started < 2 * LIST_TOOLS_TIMEOUT_SECONDS
    finally:
        for connection in (orchestrator, dying, survivor):
            await connection.close()


async def test_with_no_broker_answering_the_request_goes_on_without_tools(nats_url: str) -> None:
    subjects = Subjects(f"sbt{secrets.token_hex(4)}")
    orchestrator = await nats.connect(nats_url)
    try:
        assert await ToolBroker(orchestrator, subjects).list_tools("req_2", "alice") == []
    finally:
        await orchestrator.close()
