"""Fernet encryption of BYOK provider keys under the master keys of ``SWITCHBOARD_BYOK_KEYS``.

The first key encrypts; every key decrypts, so a new key is rolled out by putting it first and re-encrypting the
stored rows (:meth:`SecretBox.rotate`) before the old key is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox"]

_SETTING = "SWITCHBOARD_BYOK_KEYS"


class SecretBox:
    """Encrypts and decrypts short secrets; never puts a key or a plaintext in an exception message."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError(f"{_SETTING}: at least one Fernet key is required")
        self._fernet = MultiFernet([_fernet(index, key) for index, key in enumerate(keys, start=1)])

    @classmethod
    def from_setting(cls, value: str | None) -> SecretBox | None:
        """The box for a comma-separated key list (first = current), or ``None`` when BYOK is not configured."""
        if value is None or not value.strip():
            return None
        return cls([part.strip() for part in value.split(",")])

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, UnicodeError):
            raise ValueError(_UNREADABLE) from None

    def rotate(self, token: str) -> str:
        """The same secret encrypted under the current (first) key."""
        try:
            return self._fernet.rotate(token.encode()).decode("ascii")
        except InvalidToken:
            raise ValueError(_UNREADABLE) from None


_UNREADABLE = f"BYOK ciphertext cannot be decrypted with any key in {_SETTING} (was its key removed?)"


def _fernet(index: int, key: str) -> Fernet:
    if not key:
        raise ValueError(f"{_SETTING}: entry {index} is empty")
    try:
        return Fernet(key)
    except ValueError:  # binascii.Error included; its message would not echo the key, ours says what to do
        raise ValueError(
            f"{_SETTING}: entry {index} is not a Fernet key (32 url-safe base64-encoded bytes; "
            "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        ) from None
