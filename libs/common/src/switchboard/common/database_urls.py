"""Database URLs as operators write them, turned into the async drivers the services use."""

from __future__ import annotations

__all__ = ["async_driver_url"]

_ASYNC_DRIVERS = (
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgres://", "postgresql+asyncpg://"),
    ("sqlite://", "sqlite+aiosqlite://"),
)


def async_driver_url(url: str) -> str:
    """``postgresql://…`` → asyncpg, ``sqlite://…`` → aiosqlite; a URL naming its driver is kept as it is."""
    for plain, async_driver in _ASYNC_DRIVERS:
        if url.startswith(plain):
            return async_driver + url[len(plain) :]
    return url
