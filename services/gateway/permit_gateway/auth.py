"""Verifies the identity service's access tokens locally with its published keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from permitkit.context import Principal


class AuthError(Exception):
    """A missing, malformed, expired or unverifiable token."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass
class PublicKey:
    key_id: str
    algorithm: str
    pem: str


KeyFetcher = Callable[[], Awaitable[list[PublicKey]]]


class TokenVerifier:
    """Caches the published keys; refetches (at most every ``min_refresh`` s) on an unknown kid."""

    def __init__(self, fetch: KeyFetcher, *, issuer: str, audience: str, min_refresh: float = 5.0) -> None:
        self._fetch = fetch
        self._keys: dict[str, tuple[str, object]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self.issuer = issuer
        self.audience = audience
        self.min_refresh = min_refresh

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self.min_refresh and self._keys:
                return
            keys = await self._fetch()
            self._keys = {k.key_id: (k.algorithm, load_pem_public_key(k.pem.encode())) for k in keys}
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("TOKEN_INVALID", "登录凭证无效，请重新登录。") from None
        kid = header.get("kid", "")
        if not isinstance(kid, str):  # the header is unverified input: {"kid": [1]} must not crash
            raise AuthError("TOKEN_INVALID", "登录凭证无效，请重新登录。")
        if kid not in self._keys:
            await self._refresh()
        if kid not in self._keys:
            raise AuthError("TOKEN_INVALID", "登录凭证无效，请重新登录。")
        alg, key = self._keys[kid]
        try:
            claims = jwt.decode(token, key=key, algorithms=[alg], audience=self.audience,  # type: ignore[arg-type]
                                issuer=self.issuer, options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("TOKEN_EXPIRED", "登录已过期，请重新登录。") from None
        except jwt.PyJWTError:
            raise AuthError("TOKEN_INVALID", "登录凭证无效，请重新登录。") from None
        roles = claims.get("roles") or []
        return Principal(
            subject=str(claims["sub"]),
            party=claims.get("party") or None,
            roles=frozenset(str(r) for r in roles if str(r) != "service"),  # never from outside
            province=claims.get("prov") or None,
            onboarding=claims.get("onb") or None,
        )
