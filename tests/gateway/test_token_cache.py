"""Gateway: a verified token is remembered (by the token, bounded, never past its
expiry) while sign-out still takes effect on the next call (ID-6)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from permit_gateway import auth
from permit_gateway.auth import AuthError, PublicKey, TokenVerifier, VerifiedTokens
from permitkit.context import Principal

KEY = Ed25519PrivateKey.generate()
PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def token(ttl: float = 300.0, **claims: object) -> str:
    now = dt.datetime.now(dt.UTC)
    body = {"iss": "permit-identity", "aud": "permit", "sub": "users/1", "party": "parties/L1001",
            "roles": ["applicant"], "sid": "s1", "iat": now, "exp": now + dt.timedelta(seconds=ttl),
            "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(body, KEY, algorithm="EdDSA", headers={"kid": "k1"})


async def keys() -> list[PublicKey]:
    return [PublicKey("k1", "EdDSA", PEM)]


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts signature checks (jwt.decode with a key) the verifier makes."""
    seen: list[str] = []
    real = jwt.decode

    def counting(tok: str, *a: object, **kw: object) -> object:
        if kw.get("key") is not None:
            seen.append(tok)
        return real(tok, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return seen


def test_the_same_token_is_checked_once_then_served_from_the_cache_ID_6(decodes: list[str]) -> None:
    v = TokenVerifier(keys, issuer="permit-identity", audience="permit")
    t = token()

    async def run() -> list[Principal]:
        return [await v.verify(t) for _ in range(5)]

    principals = asyncio.run(run())
    assert decodes == [t]
    assert {p.party for p in principals} == {"parties/L1001"}
    other = token(party="parties/L2002")
    assert asyncio.run(v.verify(other)).party == "parties/L2002"  # keyed by the token, not the subject
    assert decodes == [t, other]


def test_a_signed_out_session_is_refused_even_with_a_cached_token_ID_6(decodes: list[str]) -> None:
    active = {"s1": True}

    async def check(tok: str) -> bool:
        return active[jwt.decode(tok, options={"verify_signature": False})["sid"]]

    v = TokenVerifier(keys, issuer="permit-identity", audience="permit", session_check=check, recheck_after=1e-9)
    t = token()
    asyncio.run(v.verify(t))
    active["s1"] = False
    with pytest.raises(AuthError) as e:
        asyncio.run(v.verify(t))
    assert e.value.reason == "SESSION_REVOKED"
    assert decodes == [t]  # the signature was not checked again, the session was


def test_an_expired_token_is_not_served_from_the_cache_ID_6(decodes: list[str]) -> None:
    v = TokenVerifier(keys, issuer="permit-identity", audience="permit")
    t = token(ttl=1.2)
    asyncio.run(v.verify(t))
    deadline = jwt.decode(t, options={"verify_signature": False})["exp"]
    while dt.datetime.now(dt.UTC).timestamp() < deadline + 0.05:
        asyncio.run(asyncio.sleep(0.05))
    with pytest.raises(AuthError) as e:
        asyncio.run(v.verify(t))
    assert e.value.reason == "TOKEN_EXPIRED"


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = VerifiedTokens(capacity=2)
    p = Principal(subject="users/1")
    cache.put("a", p, "", exp=100.0, now=0.0)
    cache.put("b", p, "", exp=100.0, now=0.0)
    assert cache.get("a", 1.0) is not None  # a is now the most recent
    cache.put("c", p, "", exp=100.0, now=1.0)
    assert len(cache) == 2
    assert cache.get("b", 1.0) is None and cache.get("a", 1.0) is not None
    assert cache.get("c", 100.0) is None  # not past the token's exp
    cache.put("d", p, "", exp=10_000.0, now=0.0)
    assert cache.get("d", cache.max_age) is None  # nor past the cache's own bound
