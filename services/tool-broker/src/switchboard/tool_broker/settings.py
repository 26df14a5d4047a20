"""Configuration of the tool-broker, read once from the environment."""

from __future__ import annotations

from pydantic import Field

from switchboard.common.settings import CommonSettings

__all__ = ["ToolBrokerSettings"]


class ToolBrokerSettings(CommonSettings):
    """Every knob of the tool-broker; each field documents its environment variable."""

    host: str = Field("127.0.0.1", validation_alias="SWITCHBOARD_TOOL_BROKER_HOST", description="Address to bind.")
    port: int = Field(8090, validation_alias="SWITCHBOARD_TOOL_BROKER_PORT", description="TCP port to bind.")
    result_max_bytes: int = Field(
        1024 * 1024,
        validation_alias="SWITCHBOARD_MCP_RESULT_MAX_BYTES",
        description="Largest tool result passed on (bytes of its content as JSON); larger ones are truncated "
        "with a note saying so.",
        gt=0,
    )
    max_message_bytes: int = Field(
        16 * 1024 * 1024,
        validation_alias="SWITCHBOARD_MCP_MAX_MESSAGE_BYTES",
        description="Largest WebSocket message or HTTP body a connector may send; larger ones close the "
        "connection (WebSocket) or get 413.",
        gt=0,
    )
    message_rate: float = Field(
        50.0,
        validation_alias="SWITCHBOARD_MCP_MESSAGE_RATE",
        description="Messages per second a connection may send on average (token bucket refill rate).",
        gt=0,
    )
    message_burst: int = Field(
        200,
        validation_alias="SWITCHBOARD_MCP_MESSAGE_BURST",
        description="Messages a connection may send in a burst (token bucket size); beyond it messages are "
        "refused with an error, and a connection that keeps going is closed.",
        gt=0,
    )
    max_connections_per_user: int = Field(
        32,
        validation_alias="SWITCHBOARD_MCP_MAX_CONNECTIONS_PER_USER",
        description="Live connector connections one user may hold on one broker replica.",
        gt=0,
    )
    max_tools_per_server: int = Field(
        512,
        validation_alias="SWITCHBOARD_MCP_MAX_TOOLS_PER_SERVER",
        description="Tools one MCP server may register.",
        gt=0,
    )
    max_inflight_per_connection: int = Field(
        64,
        validation_alias="SWITCHBOARD_MCP_MAX_INFLIGHT_PER_CONNECTION",
        description="Calls one connection may have running at once; more are answered with an error result.",
        gt=0,
    )
    heartbeat_interval: float = Field(
        20.0,
        validation_alias="SWITCHBOARD_MCP_HEARTBEAT_INTERVAL",
        description="Seconds between the broker's `ping` messages on a WebSocket connection.",
        gt=0,
    )
    idle_timeout: float = Field(
        60.0,
        validation_alias="SWITCHBOARD_MCP_IDLE_TIMEOUT",
        description="Seconds without any message after which a WebSocket connection is closed as dead.",
        gt=0,
    )
    ws_compression: bool = Field(
        False,
        validation_alias="SWITCHBOARD_MCP_WS_COMPRESSION",
        description="Offer permessage-deflate on connector WebSockets: large results cross slow links faster, "
        "but each connection then holds about 40 KiB more memory (roughly doubling an idle one's cost).",
    )
    auth_cache_ttl: float = Field(
        30.0,
        validation_alias="SWITCHBOARD_MCP_AUTH_CACHE_TTL",
        description="Seconds a verified credential is cached by the broker (revoked keys are dropped at once).",
        ge=0,
    )
