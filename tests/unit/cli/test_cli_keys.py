"""The local API key of ``switchboard up``: minted once, kept private, reused."""

from __future__ import annotations

import stat
from pathlib import Path

from switchboard.api_gateway.settings import GatewaySettings
from switchboard.cli.keys import LOCAL_KEY_FILE, LOCAL_USER, local_api_key


def test_local_key_is_minted_once_and_saved_owner_only(tmp_path: Path) -> None:
    settings = GatewaySettings().model_copy(update={"data_dir": tmp_path / "data"})
    calls: list[tuple[str, str | None]] = []

    async def minter(_: GatewaySettings, user_id: str, name: str | None) -> str:
        calls.append((user_id, name))
        return f"sk-ant-uc-test{len(calls)}"

    first = local_api_key(settings, minter)
    second = local_api_key(settings, minter)

    assert first == ("sk-ant-uc-test1", True)
    assert second == ("sk-ant-uc-test1", False)
    assert [user for user, _ in calls] == [LOCAL_USER]
    mode = stat.S_IMODE((tmp_path / "data" / LOCAL_KEY_FILE).stat().st_mode)
    assert mode == 0o600
