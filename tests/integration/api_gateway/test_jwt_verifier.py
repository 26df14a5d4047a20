"""JwtVerifier against a real fake Keycloak over HTTP: claims, every rejection, caching, rotation, outages."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fakes.keycloak import FakeKeycloak
from switchboard.api_gateway.identity.jwt_verifier import JwtVerifier, TokenClaims
from switchboard.common.credentials import looks_like_jwt
from switchboard.common.errors import AuthenticationError, UpstreamUnavailableError

MakeVerifier = Callable[..., JwtVerifier]


@pytest.fixture
def realm() -> Iterator[FakeKeycloak]:
    with FakeKeycloak() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make_verifier(realm: FakeKeycloak, http: httpx.AsyncClient) -> MakeVerifier:
    def make(**overrides: Any) -> JwtVerifier:
        return JwtVerifier(**{"issuer": realm.issuer, "audience": realm.audience, "http": http, **overrides})

    return make


async def rejection(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        await verifier.verify(token)
    message = caught.value.message
    assert token not in message and token not in repr(caught.value)
    error = caught.value  # nothing from PyJWT (which may quote token parts) is chained on for tracebacks to print
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def b64(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def without(realm: FakeKeycloak, claim: str) -> str:
    now = int(time.time())
    claims = {"iss": realm.issuer, "sub": "u", "aud": realm.audience, "iat": now, "exp": now + 60}
    del claims[claim]
    return realm.sign(claims)


def tampered(realm: FakeKeycloak) -> str:
    header, _, signature = realm.mint("alice").split(".")
    return f"{header}.{b64(jwt_payload(realm.mint('mallory', roles=['switchboard-admin'])))}.{signature}"


def jwt_payload(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return payload


# --- accepted tokens ---------------------------------------------------------------------------------------


async def test_valid_token_yields_its_claims(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    clients = {realm.audience: {"roles": ["tool-user"]}, "other-client": {"roles": ["ignored"]}}
    token = realm.mint("alice", tier="pro", roles=["switchboard-admin"], extra={"resource_access": clients})
    claims = await make_verifier().verify(token)
    assert claims.subject == "alice"
    assert claims.tier == "pro"
    assert claims.roles == frozenset({"switchboard-admin", "tool-user"})
    assert claims.expires_at.tzinfo is UTC
    assert abs((claims.expires_at - datetime.now(UTC)).total_seconds() - 300) < 5


@pytest.mark.parametrize(
    ("extra", "tier"),
    [
        ({"switchboard": {"tier": "team"}}, "team"),
        ({"switchboard.tier": "starter"}, "starter"),  # a literal dotted name wins
        ({"switchboard": {"tier": 3}}, None),
        ({"switchboard": "team"}, None),
        ({}, None),
    ],
)
async def test_tier_from_a_dotted_claim(
    realm: FakeKeycloak, make_verifier: MakeVerifier, extra: dict[str, Any], tier: str | None
) -> None:
    claims = await make_verifier(tier_claim="switchboard.tier").verify(realm.mint("bob", extra=extra))
    assert claims == TokenClaims("bob", tier, frozenset(), claims.expires_at)


async def test_missing_tier_and_roles(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    claims = await make_verifier().verify(realm.mint("carol", extra={"realm_access": "junk", "resource_access": []}))
    assert (claims.tier, claims.roles) == (None, frozenset())


@pytest.mark.parametrize("audience", [["account", "switchboard-gateway"], ["switchboard-gateway"]])
async def test_audience_may_be_a_list(realm: FakeKeycloak, make_verifier: MakeVerifier, audience: list[str]) -> None:
    assert (await make_verifier().verify(realm.mint("dave", audience=audience))).subject == "dave"


async def test_leeway_tolerates_small_clock_skew(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    token = realm.mint("erin", expires_in=-10)
    assert (await make_verifier(leeway=30).verify(token)).subject == "erin"
    assert await rejection(make_verifier(leeway=0), token) == "JWT expired"


async def test_a_kid_less_token_is_accepted_against_a_single_key(
    realm: FakeKeycloak, make_verifier: MakeVerifier
) -> None:
    token = realm.sign(jwt_payload(realm.mint("frank")), headers={})
    assert (await make_verifier().verify(token)).subject == "frank"


# --- rejected tokens ---------------------------------------------------------------------------------------

REJECTIONS: list[tuple[str, Callable[[FakeKeycloak], str], str]] = [
    ("expired", lambda kc: kc.mint("m", expires_in=-120), "JWT expired"),
    ("not-yet-valid", lambda kc: kc.mint("m", extra={"nbf": int(time.time()) + 600}), "JWT not yet valid"),
    ("bad-signature", lambda kc: kc.mint_with_foreign_key("m"), "JWT signature invalid"),
    ("tampered-payload", tampered, "JWT signature invalid"),
    ("wrong-issuer", lambda kc: kc.mint("m", issuer="http://127.0.0.1:1/realms/evil"), "JWT issuer not accepted"),
    ("issuer-other-realm", lambda kc: kc.mint("m", issuer=f"{kc.url}/realms/master"), "JWT issuer not accepted"),
    ("wrong-audience", lambda kc: kc.mint("m", audience="someone-else"), "JWT audience not accepted"),
    ("azp-only", lambda kc: kc.mint("m", audience="account"), "JWT audience not accepted"),
    ("audience-list-without-us", lambda kc: kc.mint("m", audience=["a", "b"]), "JWT audience not accepted"),
    ("no-audience", lambda kc: without(kc, "aud"), "JWT audience not accepted"),
    ("alg-none", lambda kc: kc.mint("m", alg="none"), "JWT algorithm not allowed"),
    ("alg-confusion-hs256", lambda kc: kc.mint("m", alg="HS256"), "JWT algorithm not allowed"),
    ("alg-confusion-hs512", lambda kc: kc.mint("m", alg="HS512"), "JWT algorithm not allowed"),
    ("alg-differs-from-key", lambda kc: kc.mint("m", alg="RS384"), "JWT algorithm not allowed"),
    ("unknown-kid", lambda kc: kc.mint("m", kid="no-such-key"), "JWT signing key unknown"),
    ("encryption-key-kid", lambda kc: kc.mint("m", kid=kc.jwks()["keys"][-1]["kid"]), "JWT signing key unknown"),
    ("no-sub", lambda kc: without(kc, "sub"), "JWT malformed: no 'sub' claim"),
    ("no-exp", lambda kc: without(kc, "exp"), "JWT malformed: no 'exp' claim"),
    ("no-iat", lambda kc: without(kc, "iat"), "JWT malformed: no 'iat' claim"),
    ("no-iss", lambda kc: without(kc, "iss"), "JWT malformed: no 'iss' claim"),
    ("garbage-segments", lambda kc: "abc.def.ghi", "JWT malformed"),
    ("two-segments", lambda kc: kc.mint("m").rsplit(".", 1)[0], "JWT malformed"),
    ("header-not-json", lambda kc: "bm90IGpzb24." + kc.mint("m").split(".", 1)[1], "JWT malformed"),
    (
        "kid-not-a-string",
        lambda kc: b64({"alg": "RS256", "kid": 7}) + "." + kc.mint("m").split(".", 1)[1],
        "JWT malformed",
    ),
]


@pytest.mark.parametrize(("forge", "reason"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
async def test_rejections(
    realm: FakeKeycloak, make_verifier: MakeVerifier, forge: Callable[[FakeKeycloak], str], reason: str
) -> None:
    assert await rejection(make_verifier(), forge(realm)) == reason


async def test_kid_less_token_is_ambiguous_against_several_keys(
    realm: FakeKeycloak, make_verifier: MakeVerifier
) -> None:
    realm.rotate(keep_old=True)
    token = realm.sign(jwt_payload(realm.mint("m")), headers={})
    assert await rejection(make_verifier(), token) == "JWT signing key unknown"


async def test_key_algorithm_outside_the_allowlist(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    assert await rejection(make_verifier(algorithms=("ES256",)), realm.mint("m")) == "JWT algorithm not allowed"


@pytest.mark.parametrize("algorithms", [("RS256", "HS256"), ("none",), ()])
def test_symmetric_or_empty_allowlists_are_refused(make_verifier: MakeVerifier, algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        make_verifier(algorithms=algorithms)


# --- the JWKS cache ----------------------------------------------------------------------------------------


def test_jwks_url(make_verifier: MakeVerifier, realm: FakeKeycloak) -> None:
    assert make_verifier(issuer=realm.issuer + "/").jwks_url == f"{realm.issuer}/protocol/openid-connect/certs"


async def test_jwks_is_fetched_once_and_cached(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    await asyncio.gather(*(verifier.verify(realm.mint(f"user-{i}")) for i in range(10)))  # cold: one shared fetch
    for i in range(10):
        await verifier.verify(realm.mint(f"user-{i}"))
    assert realm.jwks_requests == 1


async def test_jwks_is_refetched_after_its_ttl(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(jwks_ttl=0.2)
    await verifier.verify(realm.mint("u"))
    await asyncio.sleep(0.3)
    await verifier.verify(realm.mint("u"))
    assert realm.jwks_requests == 2


async def test_rotation_is_followed_with_one_refresh(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    old = realm.mint("before")
    await verifier.verify(old)
    realm.rotate()
    assert (await verifier.verify(realm.mint("after"))).subject == "after"
    assert realm.jwks_requests == 2
    assert await rejection(verifier, old) == "JWT signing key unknown"
    assert realm.jwks_requests == 2  # within the cooldown: no further fetch


async def test_rotation_keeping_the_old_key(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    old = realm.mint("before")
    await verifier.verify(old)
    realm.rotate(keep_old=True)
    await verifier.verify(realm.mint("after"))
    assert (await verifier.verify(old)).subject == "before"


@pytest.mark.parametrize("concurrent", [True, False])
async def test_cooldown_prevents_a_fetch_storm(
    realm: FakeKeycloak, make_verifier: MakeVerifier, concurrent: bool
) -> None:
    verifier = make_verifier()
    tokens = [realm.mint("m", kid=secrets.token_hex(8)) for _ in range(50)]
    results: list[object]
    if concurrent:
        results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)
    else:
        results = [await rejection(verifier, t) for t in tokens]
    assert all(str(r) == "JWT signing key unknown" for r in results)
    assert realm.jwks_requests <= 2


async def test_cooldown_expires(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(refresh_cooldown=0.2)
    await rejection(verifier, realm.mint("m", kid="nope"))
    fetches = realm.jwks_requests
    await asyncio.sleep(0.3)
    realm.rotate()
    assert (await verifier.verify(realm.mint("after"))).subject == "after"
    assert realm.jwks_requests == fetches + 1


# --- identity provider outages ------------------------------------------------------------------------------


async def test_unreachable_jwks_is_an_upstream_error(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    token = realm.mint("u")
    realm.stop()
    with pytest.raises(UpstreamUnavailableError, match="identity provider unreachable") as caught:
        await make_verifier().verify(token)
    assert caught.value.status_code == 502


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_failing_jwks_endpoint_is_an_upstream_error(
    realm: FakeKeycloak, make_verifier: MakeVerifier, status: int
) -> None:
    realm.jwks_status = status
    with pytest.raises(UpstreamUnavailableError):
        await make_verifier().verify(realm.mint("u"))


async def test_stale_keys_are_used_while_the_provider_is_down(realm: FakeKeycloak, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(jwks_ttl=0.1, refresh_cooldown=60)
    await verifier.verify(realm.mint("u"))
    realm.jwks_status = 503
    await asyncio.sleep(0.2)
    for _ in range(5):
        assert (await verifier.verify(realm.mint("u"))).subject == "u"
    assert realm.jwks_requests == 2  # one failed refresh, then the cooldown holds off retries


async def test_discovery_document_points_at_the_jwks(realm: FakeKeycloak, http: httpx.AsyncClient) -> None:
    document = (await http.get(f"{realm.issuer}/.well-known/openid-configuration")).json()
    assert document["issuer"] == realm.issuer
    assert document["jwks_uri"] == f"{realm.issuer}/protocol/openid-connect/certs"


# --- looks_like_jwt ----------------------------------------------------------------------------------------

_HEADER = b64({"alg": "RS256", "kid": "k"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{_HEADER}.{b64({'sub': 'x'})}.c2ln", True),
        (f"{_HEADER}.{b64({'sub': 'x'})}.", True),  # alg=none shape: routed to the verifier, which rejects it
        (f"{b64({'typ': 'JWT'})}.{b64({'sub': 'x'})}.c2ln", False),  # no alg
        (f"{b64([1, 2])}.e30.c2ln", False),
        ("skgw_0123abcd_" + "A" * 43, False),
        ("sk-ant-api03-abc.def", False),
        (f"{_HEADER}.e30", False),
        (f"{_HEADER}.e30.sig.extra", False),
        (".e30.c2ln", False),
        (f"{_HEADER}.e3+0.c2ln", False),
        (f"{_HEADER}=.e30.c2ln", False),
        ("bm90IGpzb24.e30.c2ln", False),  # "not json"
        ("!!!.e30.c2ln", False),
        ("", False),
    ],
)
def test_looks_like_jwt(value: str, expected: bool) -> None:
    assert looks_like_jwt(value) is expected


def test_looks_like_jwt_on_minted_tokens(realm: FakeKeycloak) -> None:
    assert all(looks_like_jwt(realm.mint("u", alg=alg)) for alg in ("RS256", "none", "HS256"))
