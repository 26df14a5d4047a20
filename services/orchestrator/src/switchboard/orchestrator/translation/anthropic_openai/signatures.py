"""Signatures for ``thinking`` blocks made from a provider's reasoning output.

Anthropic signs thinking blocks so that clients cannot forge them. For reasoning that came from an
OpenAI-compatible provider, the gateway signs instead (HMAC-SHA256 over the text); a thinking block sent back
with a valid gateway signature is replayed to the provider as ``reasoning_content``, and one with any other
signature (e.g. from Anthropic, or forged) is dropped rather than passed off as the provider's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["SIGNATURE_PREFIX", "ThinkingSigner"]

SIGNATURE_PREFIX = "sbsig1."


class ThinkingSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, thinking: str) -> str:
        digest = hmac.new(self._key, thinking.encode(), hashlib.sha256).digest()
        return SIGNATURE_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, thinking: str, signature: str) -> bool:
        return signature.startswith(SIGNATURE_PREFIX) and hmac.compare_digest(self.sign(thinking), signature)
