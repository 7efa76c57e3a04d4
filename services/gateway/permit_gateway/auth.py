"""Verifies the identity service's access tokens locally with its published keys."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from permit_gateway.shared import RedisStore, StoreUnavailable
from permitkit.context import Principal


class AuthError(Exception):
    """A missing, malformed, expired or unverifiable token."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class SessionCheckUnavailable(AuthError):
    """Neither the shared store nor identity can say whether a session is still open (503)."""

    def __init__(self) -> None:
        super().__init__("SESSION_CHECK_UNAVAILABLE", "暂时无法确认登录状态，请稍后重试。")


def _revoked() -> AuthError:
    return AuthError("SESSION_REVOKED", "您已退出登录，请重新登录。")
# While Redis is away, identity's answer for a session is reused for this long.
FALLBACK_RECHECK = 0.5


@dataclass
class PublicKey:
    key_id: str
    algorithm: str
    pem: str


class VerifiedTokens:
    """Tokens whose signature and claims were checked, by the token itself: least
    recently used evicted beyond ``capacity``, none kept past its own ``exp`` (nor
    ``max_age`` seconds). Only the signature check is skipped on a hit; the session
    (sign-out) is still confirmed on every call."""

    def __init__(self, capacity: int = 10_000, max_age: float = 300.0) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._items: OrderedDict[str, tuple[Principal, str, float]] = OrderedDict()

    def get(self, token: str, now: float) -> tuple[Principal, str] | None:
        hit = self._items.get(token)
        if hit is None:
            return None
        if now >= hit[2]:
            del self._items[token]
            return None
        self._items.move_to_end(token)
        return hit[0], hit[1]

    def put(self, token: str, principal: Principal, sid: str, exp: float, now: float) -> None:
        if self.capacity <= 0:
            return
        self._items[token] = (principal, sid, min(exp, now + self.max_age))
        self._items.move_to_end(token)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


KeyFetcher = Callable[[], Awaitable[list[PublicKey]]]
# Asks the identity service whether the session behind a token is still open.
SessionCheck = Callable[[str], Awaitable[bool]]


class TokenVerifier:
    """Caches the published keys; refetches (at most every ``min_refresh`` s) on an unknown kid."""

    def __init__(self, fetch: KeyFetcher, *, issuer: str, audience: str, min_refresh: float = 5.0,
                 session_check: SessionCheck | None = None, recheck_after: float = 30.0,
                 revocations: RedisStore | None = None, cache_size: int = 10_000) -> None:
        self._fetch = fetch
        self._verified = VerifiedTokens(cache_size)
        # Sign-out revokes the session at once; tokens are checked locally, so the
        # session of each token is confirmed with identity at most every
        # ``recheck_after`` seconds (a revoked one is remembered for good).
        self._session_check = session_check
        self._recheck_after = recheck_after
        self._sessions: dict[str, tuple[bool, float]] = {}
        # Sign-outs through any replica (Redis): looked up on every request.
        self._revocations = revocations
        self._fallback: dict[str, tuple[bool, float]] = {}
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
        """The token's principal: the signature checked once per token (cached until its
        expiry), its session's sign-out checked on every request (every replica, Redis)."""
        now = time.time()
        hit = self._verified.get(token, now)
        if hit is not None:
            principal, sid = hit
        else:
            principal, sid, exp = await self._verify_signed(token)
            self._verified.put(token, principal, sid, exp, now)
        if sid:
            await self._check_revocation(sid, token)
            if self._session_check is not None and self._recheck_after > 0:
                await self._confirm_session(sid, token)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, str, float]:
        """Signature, issuer, audience and expiry: (principal, session id, exp)."""
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
        sid = claims.get("sid")
        roles = claims.get("roles") or []
        principal = Principal(
            subject=str(claims["sub"]),
            party=claims.get("party") or None,
            roles=frozenset(str(r) for r in roles if str(r) != "service"),  # never from outside
            province=claims.get("prov") or None,
            onboarding=claims.get("onb") or None,
        )
        return principal, sid if isinstance(sid, str) else "", float(claims["exp"])

    async def signed_out(self, token: str) -> None:
        """After a sign-out through this gateway. The request may have ended another session
        than the token's (a refresh token names it), so identity is asked about the token's
        own session; when it is over (or identity cannot say), it is revoked here at once
        and, through the shared store, on every replica (kept and written later if Redis is away)."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return
        sid, exp = claims.get("sid"), claims.get("exp")
        if not isinstance(sid, str) or not sid:
            return
        if self._session_check is not None:
            try:
                if await self._session_check(token):
                    self._remember(self._sessions, sid, True)
                    return
            except Exception:  # noqa: BLE001 - cannot tell: the safe side is revoked
                pass
        self._remember(self._sessions, sid, False)
        if self._revocations is not None:
            until = float(exp) if isinstance(exp, int | float) else time.time() + 24 * 3600
            try:
                await self._revocations.revoke(sid, until)
            except StoreUnavailable:
                pass  # kept by the store and written once Redis answers; identity covers meanwhile

    @staticmethod
    def _remember(cache: dict[str, tuple[bool, float]], sid: str, active: bool) -> None:
        if len(cache) > 100_000:
            cache.clear()
        cache[sid] = (active, time.monotonic())

    async def _check_revocation(self, sid: str, token: str) -> None:
        """Signed out on any replica? Asked of Redis on every request; while it is away,
        of identity (its answer reused under a second); neither answering: refused (503)."""
        known = self._sessions.get(sid)
        if known is not None and not known[0]:
            raise _revoked()
        if self._revocations is None:
            return
        try:
            if await self._revocations.is_revoked(sid):
                self._remember(self._sessions, sid, False)
                raise _revoked()
            return
        except StoreUnavailable:
            pass
        cached = self._fallback.get(sid)
        if cached is not None and time.monotonic() - cached[1] < FALLBACK_RECHECK:
            active = cached[0]
        else:
            if self._session_check is None:
                raise SessionCheckUnavailable()
            try:
                active = await self._session_check(token)
            except Exception:  # noqa: BLE001 - identity away too: refuse rather than guess
                raise SessionCheckUnavailable() from None
            self._remember(self._fallback, sid, active)
        if not active:
            self._remember(self._sessions, sid, False)
            raise _revoked()

    async def _confirm_session(self, sid: str, token: str) -> None:
        assert self._session_check is not None
        now = time.monotonic()
        known = self._sessions.get(sid)
        if known is not None and (not known[0] or now - known[1] < self._recheck_after):
            active = known[0]
        else:
            try:
                active = await self._session_check(token)
            except Exception:  # noqa: BLE001 - identity away: the signature still holds
                return
            if len(self._sessions) > 100_000:
                self._sessions.clear()
            self._sessions[sid] = (active, now)
        if not active:
            raise _revoked()
