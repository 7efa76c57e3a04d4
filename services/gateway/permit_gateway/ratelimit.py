"""Rate limits per user and per client address: token buckets shared by the replicas in
Redis, or in memory (idle ones dropped) without Redis and while it does not answer."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from permit_gateway.config import IPNetwork, RateLimit, Settings
from permit_gateway.shared import RedisStore, StoreUnavailable


class TokenBuckets:
    """One token bucket per key; ``take`` answers how long to wait (0 = go ahead).

    A bucket left alone for ``burst / rate`` seconds is full again, the same as
    a new one, so it is dropped: memory follows the clients active in that
    window, and ``max_keys`` caps it even under a flood of distinct keys (the
    least recently seen client then starts afresh, which only errs on the
    lenient side). Buckets are kept in order of last use, so the sweep only
    looks at the stale end. The event loop is single-threaded: no lock.
    """

    def __init__(self, limit: RateLimit, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = limit.rate
        self._burst = float(limit.burst)
        self._refill_seconds = self._burst / self._rate
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        now = self._clock()
        self._sweep(now)
        tokens, at = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._rate
        self._buckets[key] = (tokens, now)
        return wait

    def _sweep(self, now: float) -> None:
        while self._buckets:
            _, at = next(iter(self._buckets.values()))
            if now - at < self._refill_seconds and len(self._buckets) < self._max_keys:
                return
            self._buckets.popitem(last=False)


def retry_after_seconds(wait: float) -> int:
    """Retry-After is whole seconds; never 0 for a refused request."""
    return max(1, math.ceil(wait))


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IPNetwork, ...]) -> str:
    """The socket peer, or behind trusted proxies the last X-Forwarded-For hop they did not add.

    Each proxy appends the address it saw, so walking the list from the right
    the first hop that is not one of ours is the client; whatever lies left of
    it was written by that client and proves nothing.
    """
    if not peer:
        return "unknown"
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _trusted(addr: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class RateLimiter:
    """The gateway's two limits: per client address (before the token is checked) and per user.

    With a ``store`` (Redis) every replica takes from one shared bucket per key;
    while the store does not answer, each replica falls back to its own buckets.
    """

    def __init__(self, settings: Settings, store: RedisStore | None = None) -> None:
        self._trusted = settings.trusted_proxies
        self._store = store
        self._limits = {"address": settings.rate_per_address, "user": settings.rate_per_user}
        self._addresses = TokenBuckets(settings.rate_per_address) if settings.rate_per_address.enabled else None
        self._users = TokenBuckets(settings.rate_per_user) if settings.rate_per_user.enabled else None

    async def _take(self, kind: str, local: TokenBuckets, key: str) -> float:
        if self._store is not None and self._store.available:
            limit = self._limits[kind]
            try:
                return await self._store.take(f"{kind}:{key}", limit.rate, limit.burst)
            except StoreUnavailable:
                pass  # this replica's own bucket until Redis answers again
        return local.take(key)

    async def address_wait(self, peer: str | None, forwarded_for: Iterable[str]) -> float:
        if self._addresses is None:
            return 0.0
        return await self._take("address", self._addresses, client_address(peer, forwarded_for, self._trusted))

    async def user_wait(self, subject: str) -> float:
        return 0.0 if self._users is None else await self._take("user", self._users, subject)
