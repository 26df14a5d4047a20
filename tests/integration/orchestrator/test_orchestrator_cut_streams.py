"""A stream cut by the client or the provider is billed for the output it carried, not for zero."""

from __future__ import annotations

import json

from integration.orchestrator.orchestrator_harness import Gateway, Reply, message_body


def streamed_estimate(reply: Reply) -> tuple[int, int]:
    """``(deltas, estimated output tokens)`` of the SSE the gateway received: ~4 characters a token, min 1."""
    deltas = chars = 0
    for block in reply.data("sse").replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
        payload = json.loads(data) if data else {}
        if payload.get("type") == "content_block_delta":
            deltas += 1
            delta = payload["delta"]
            chars += sum(len(delta.get(name, "")) for name in ("text", "thinking", "partial_json"))
    return deltas, max(1, -(-chars // 4))


async def test_a_client_disconnect_bills_the_streamed_output(gateway: Gateway) -> None:
    text = "[[fake:words=400]] [[fake:word_delay=0.02]] cut me"
    reply = await gateway.open(gateway.request(message_body(text, stream=True), stream=True, user_id="u-cut"))
    while streamed_estimate(reply)[0] < 30:
        await reply.until("sse")
    await gateway.cancel(reply.request.request_id)
    await reply.finish()

    completion, _ = await gateway.completion("u-cut")
    deltas, estimate = streamed_estimate(reply)
    assert 30 <= deltas < 400
    assert (completion.status, completion.http_status) == ("cancelled", 499)
    assert completion.output_tokens == estimate > 1
    assert completion.input_tokens > 0  # message_start's count


async def test_a_provider_drop_bills_the_streamed_output(gateway: Gateway) -> None:
    text = "[[fake:words=60]] [[fake:drop_after=25]] dropped"
    reply = await gateway.call(gateway.request(message_body(text, stream=True), stream=True, user_id="u-drop"))

    completion, _ = await gateway.completion("u-drop")
    deltas, estimate = streamed_estimate(reply)
    assert deltas == 25
    assert completion.status == "failed"
    assert completion.output_tokens == estimate > 1
    assert completion.input_tokens > 0


async def test_an_upstream_error_event_bills_the_streamed_output(gateway: Gateway) -> None:
    text = "[[fake:words=60]] [[fake:midstream_error=20]] overloaded"
    reply = await gateway.call(gateway.request(message_body(text, stream=True), stream=True, user_id="u-err"))

    completion, _ = await gateway.completion("u-err")
    deltas, estimate = streamed_estimate(reply)
    assert deltas == 20
    assert (completion.status, completion.error_type) == ("failed", "overloaded_error")
    assert completion.output_tokens == estimate > 1


async def test_a_complete_stream_keeps_the_providers_count(gateway: Gateway) -> None:
    text = '[[fake:words=30]] [[fake:usage={"output_tokens": 3}]] whole'
    await gateway.call(gateway.request(message_body(text, stream=True), stream=True, user_id="u-whole"))
    completion, _ = await gateway.completion("u-whole")
    assert completion.output_tokens == 3  # far below the estimate: the provider's figure is what is billed
