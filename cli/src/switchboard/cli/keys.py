"""``switchboard keys create``: mint API keys in the gateway's database, and the local key ``up`` prints."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.api_gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from switchboard.api_gateway.keys.admin import CreatedKey

__all__ = ["LOCAL_KEY_FILE", "LOCAL_USER", "KeyMinter", "create_key", "local_api_key", "mint", "run_create"]

LOCAL_USER = "local"
LOCAL_KEY_FILE = "local-api-key"

KeyMinter = Callable[[GatewaySettings, str, "str | None"], Coroutine[Any, Any, str]]
"""``(settings, user_id, name) -> secret``; tests substitute their own."""


async def create_key(settings: GatewaySettings, *, user_id: str, name: str | None = None) -> CreatedKey:
    # Imported here so that the commands that don't touch the database start without the gateway's
    # database stack.
    from switchboard.api_gateway.keys.admin import create_api_key

    return await create_api_key(settings, user_id=user_id, name=name)


async def mint(settings: GatewaySettings, user_id: str, name: str | None) -> str:
    return (await create_key(settings, user_id=user_id, name=name)).secret


def local_api_key(settings: GatewaySettings, minter: KeyMinter = mint) -> tuple[str, bool]:
    """The key of user ``local`` saved in the data dir, minted on first use; ``True`` if it was just minted."""
    path = settings.data_dir / LOCAL_KEY_FILE
    if path.exists():
        return path.read_text().strip(), False
    secret = asyncio.run(minter(settings, LOCAL_USER, "switchboard up"))
    _write_private(path, secret + "\n")
    return secret, True


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only (0600) before the secret is written into it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def run_create(settings: GatewaySettings, user_id: str, name: str | None) -> int:
    created = asyncio.run(create_key(settings, user_id=user_id, name=name))
    print(f"Created key {created.key_id} for user {user_id!r}. It is shown only once; store it now:")
    print(created.secret)
    return 0
