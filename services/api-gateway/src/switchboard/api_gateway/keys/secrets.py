"""Format, minting and hashing of Switchboard API keys (``sk-ant-uc-…``)."""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["KEY_PREFIX", "hash_secret", "looks_like_key", "mint_secret"]

KEY_PREFIX = "sk-ant-uc-"
_KEY_PATTERN = re.compile(r"^sk-ant-uc-[A-Za-z0-9_-]{43}$")


def mint_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_key(candidate: str) -> bool:
    return _KEY_PATTERN.fullmatch(candidate) is not None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
