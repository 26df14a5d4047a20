"""BYOK building blocks of the gateway: the Fernet box (rotation included), the SSRF guard and the store."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from switchboard.api_gateway.byok.crypto import SecretBox
from switchboard.api_gateway.byok.ssrf import check_base_url, is_forbidden_address
from switchboard.api_gateway.byok.store import ByokStore
from switchboard.api_gateway.database import create_engine, migrate
from switchboard.common.errors import InvalidRequestError

USER_KEY = "sk-user-own-key-0123456789"


def new_key() -> str:
    return Fernet.generate_key().decode()


# --- SecretBox -------------------------------------------------------------------------------------------


def test_round_trip_never_shows_the_plaintext() -> None:
    box = SecretBox([new_key()])
    token = box.encrypt(USER_KEY)
    assert USER_KEY not in token
    assert box.decrypt(token) == USER_KEY


def test_from_setting() -> None:
    first, second = new_key(), new_key()
    assert SecretBox.from_setting(None) is None
    assert SecretBox.from_setting("  ") is None
    box = SecretBox.from_setting(f"{first}, {second}")
    assert box is not None
    token = box.encrypt("sk-secret-1")
    assert SecretBox([first]).decrypt(token) == "sk-secret-1"  # the first key encrypts
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([second]).decrypt(token)


def test_rotation_keeps_old_tokens_readable_and_rotate_moves_them_to_the_new_key() -> None:
    old, new = new_key(), new_key()
    token = SecretBox([old]).encrypt(USER_KEY)
    box = SecretBox([new, old])
    assert box.decrypt(token) == USER_KEY
    rotated = box.rotate(token)
    assert rotated != token
    assert SecretBox([new]).decrypt(rotated) == USER_KEY  # readable without the old key now
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([new]).decrypt(token)


def test_wrong_key_is_a_clear_error_without_secrets() -> None:
    token = SecretBox([new_key()]).encrypt(USER_KEY)
    with pytest.raises(ValueError, match="SWITCHBOARD_BYOK_KEYS") as caught:
        SecretBox([new_key()]).decrypt(token)
    assert USER_KEY not in str(caught.value)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([new_key()]).decrypt("not-a-token")


@pytest.mark.parametrize("setting", ["not-a-fernet-key", "c2hvcnQ=", "{good},", "{good},,{good}"])
def test_invalid_key_material_is_named_by_position_not_echoed(setting: str) -> None:
    good = new_key()
    value = setting.replace("{good}", good)
    with pytest.raises(ValueError, match=r"SWITCHBOARD_BYOK_KEYS: entry \d") as caught:
        SecretBox.from_setting(value)
    assert "not-a-fernet-key" not in str(caught.value)
    assert good not in str(caught.value)


# --- SSRF ------------------------------------------------------------------------------------------------

FORBIDDEN_URLS = [
    "http://127.0.0.1:8080/v1",
    "http://127.1/v1",
    "http://localhost/v1",
    "http://[::1]/v1",
    "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/v1",
    "https://192.168.0.10/v1",
    "https://172.16.5.4/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://[::ffff:10.0.0.1]/v1",
    "http://0.0.0.0/v1",
    "http://[fe80::1]/v1",
    "http://100.64.0.1/v1",
    "http://224.0.0.1/v1",
    "http://[2002:7f00:1::]/v1",
    "http://[64:ff9b::a00:1]/v1",
]


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
async def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"^base_url: "):
        await check_base_url(url, allow_private=False)


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
async def test_an_operator_may_allow_internal_addresses(url: str) -> None:
    await check_base_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["https://93.184.216.34/v1", "http://93.184.216.34:8080", "https://[2606:4700:4700::1111]/v1"]
)
async def test_public_literals_pass_without_dns(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _no_dns)
    await check_base_url(url, allow_private=False)


async def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"public.example": ["93.184.216.34"], "rebind.example": ["93.184.216.34", "127.0.0.1"]}

    async def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    await check_base_url("https://public.example/v1", allow_private=False)
    with pytest.raises(InvalidRequestError, match="private"):
        await check_base_url("https://rebind.example/v1", allow_private=False)


async def test_an_unresolvable_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fail)
    with pytest.raises(InvalidRequestError, match="cannot resolve"):
        await check_base_url("https://nowhere.invalid/v1", allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pw@93.184.216.34/v1", "credentials"),
        ("https://sk-key@93.184.216.34/v1", "credentials"),
        ("ftp://93.184.216.34/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("93.184.216.34/v1", "scheme"),
        ("https:///v1", "host"),
        ("https://93.184.216.34:99999/v1", "valid URL"),
        ("https://93.184.216.34/v1?x=1", "query"),
        ("https://93.184.216.34/v1\r\nx", "spaces"),
    ],
)
async def test_malformed_urls_are_refused_even_when_private_is_allowed(url: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError, match=reason):
        await check_base_url(url, allow_private=True)


def test_is_forbidden_address() -> None:
    assert is_forbidden_address("127.0.0.1")
    assert is_forbidden_address("::ffff:192.168.1.1")
    assert not is_forbidden_address("93.184.216.34")
    assert is_forbidden_address("fec0::1")  # site-local, which ipaddress calls global


async def _no_dns(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
    raise AssertionError("a literal address must not be resolved")


# --- ByokStore -------------------------------------------------------------------------------------------


async def test_store_keeps_only_ciphertext_and_last4(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await migrate(engine)
    old = new_key()
    store = ByokStore(engine, SecretBox([old]))
    try:
        view = await store.put("u1", "openrouter", USER_KEY, "https://openrouter.ai/api/v1")
        assert (view.provider, view.last4, view.base_url) == (
            "openrouter",
            USER_KEY[-4:],
            "https://openrouter.ai/api/v1",
        )
        assert USER_KEY not in repr(view.public())
        await store.put("u1", "anthropic", "sk-first-value", None)
        await store.put("u1", "anthropic", USER_KEY, None)  # replaces
        assert [v.provider for v in await store.list("u1")] == ["anthropic", "openrouter"]
        assert await store.list("u2") == []
        assert await store.get("u2", "anthropic") is None  # another user's key is invisible

        credentials = await store.credentials("u1")
        assert set(credentials) == {"anthropic", "openrouter"}
        assert SecretBox([old]).decrypt(credentials["anthropic"].ciphertext) == USER_KEY
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT * FROM gateway_byok_keys"))).all()
        assert len(rows) == 2
        assert all(USER_KEY not in str(value) for row in rows for value in row)

        new = new_key()
        rotated = ByokStore(engine, SecretBox([new, old]))
        assert await rotated.rotate_all() == 2
        fresh = await ByokStore(engine, SecretBox([new]), cache_ttl=0).credentials("u1")
        assert SecretBox([new]).decrypt(fresh["openrouter"].ciphertext) == USER_KEY

        assert await store.delete("u1", "anthropic") is True
        assert await store.delete("u1", "anthropic") is False
        assert set(await store.credentials("u1")) == {"openrouter"}
    finally:
        await engine.dispose()
