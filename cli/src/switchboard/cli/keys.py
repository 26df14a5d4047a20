"""``switchboard keys create``: mint API keys in the gateway's database, and the local key ``up`` prints."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.api_gateway.ratelimit.tiers import load_tiers
from switchboard.api_gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from switchboard.api_gateway.keys.admin import CreatedKey

__all__ = [
    "LOCAL_KEY_FILE",
    "LOCAL_USER",
    "KeyMinter",
    "create_key",
    "local_api_key",
    "mint",
    "run_create",
    "run_rotate_byok",
    "run_set_tier",
]

LOCAL_USER = "local"
LOCAL_KEY_FILE = "local-api-key"

KeyMinter = Callable[[GatewaySettings, str, "str | None"], Coroutine[Any, Any, str]]
"""``(settings, user_id, name) -> secret``; tests substitute their own."""


async def create_key(
    settings: GatewaySettings, *, user_id: str, name: str | None = None, tier: str | None = None, is_admin: bool = False
) -> CreatedKey:
    # Imported here so that the commands that don't touch the database start without the gateway's
    # database stack.
    from switchboard.api_gateway.keys.admin import create_api_key

    return await create_api_key(settings, user_id=user_id, name=name, tier=tier, is_admin=is_admin)


async def set_user_tier(settings: GatewaySettings, *, user_id: str, tier: str) -> None:
    from switchboard.api_gateway.keys.admin import set_user_tier as store_tier

    await store_tier(settings, user_id=user_id, tier=tier)


async def mint(settings: GatewaySettings, user_id: str, name: str | None) -> str:
    # The local key is the operator's own: unlimited and allowed to manage every user.
    return (await create_key(settings, user_id=user_id, name=name, tier="enterprise", is_admin=True)).secret


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


def run_create(
    settings: GatewaySettings, user_id: str, name: str | None, tier: str | None = None, admin: bool = False
) -> int:
    if tier is not None and (problem := _unknown_tier(settings, tier)):
        print(problem, file=sys.stderr)
        return 2
    created = asyncio.run(create_key(settings, user_id=user_id, name=name, tier=tier, is_admin=admin))
    kind = "administrator key" if admin else "key"
    print(f"Created {kind} {created.key_id} for user {user_id!r}. It is shown only once; store it now:")
    print(created.secret)
    return 0


def run_set_tier(settings: GatewaySettings, user_id: str, tier: str) -> int:
    if problem := _unknown_tier(settings, tier):
        print(problem, file=sys.stderr)
        return 2
    asyncio.run(set_user_tier(settings, user_id=user_id, tier=tier))
    print(f"User {user_id!r} is now on tier {tier!r} (running gateways apply it within their cache time).")
    return 0


def run_rotate_byok(settings: GatewaySettings) -> int:
    from switchboard.api_gateway.keys.admin import rotate_byok_keys

    try:
        count = asyncio.run(rotate_byok_keys(settings))
    except ValueError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    print(f"Re-encrypted {count} stored provider key(s) under the current master key.")
    print("Once every orchestrator runs with the new key list, the old keys can be dropped from it.")
    return 0


def _unknown_tier(settings: GatewaySettings, tier: str) -> str | None:
    known = load_tiers(settings.tiers)
    return None if tier in known else f"switchboard: unknown tier {tier!r} (known: {', '.join(sorted(known))})"
