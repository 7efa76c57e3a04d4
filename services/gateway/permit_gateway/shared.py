"""What the gateway replicas share through Redis: rate-limit buckets and revoked sessions.

With ``PERMIT_GATEWAY_REDIS_URL`` set, every replica takes from the same token
bucket (a Lua script, atomic in Redis, on Redis's clock) and writes a signed-out
session to Redis, where every replica looks before letting a token through;
empty (``make run``, one process) keeps both in the process.

When Redis does not answer, each purpose decides for itself:

* rate limits fall back to this replica's own buckets (N replicas then allow up
  to N times the limit for as long as Redis is away: a limit is protection,
  not a promise, and refusing everyone would be worse);
* revocations are never skipped: the replica asks identity whether the
  session is still open (cached under a second), and when identity does not
  answer either the request is refused 503 ``SESSION_CHECK_UNAVAILABLE``
  rather than let a signed-out token through. Sign-outs written while Redis
  was away are kept and written once it answers again.

After a failure Redis is left alone for ``cool_down`` seconds, so an outage
costs one timeout, not one per request.
"""

from __future__ import annotations

import time
from typing import Any

import structlog

log = structlog.get_logger("permit_gateway.shared")

# KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns the wait in seconds (0 = go ahead).
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(v[1])
local at = tonumber(v[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class StoreUnavailable(Exception):
    """Redis did not answer (or is cooling down after it did not)."""


class RedisStore:
    """The gateway's few Redis operations, each bounded by ``timeout`` seconds."""

    def __init__(self, url: str, *, prefix: str = "permit:gateway:", timeout: float = 0.25,
                 cool_down: float = 1.0) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False,
            health_check_interval=0, decode_responses=True)
        self._prefix = prefix
        self._cool_down = cool_down
        self._down_since: float | None = None
        self._take = self._redis.register_script(_TAKE)
        self._pending_revocations: dict[str, float] = {}  # sid -> expiry (unix time), not yet written

    @property
    def available(self) -> bool:
        return self._down_since is None or time.monotonic() - self._down_since >= self._cool_down

    async def _run(self, what: str, op: Any) -> Any:
        import redis.exceptions

        if not self.available:
            raise StoreUnavailable(what)
        try:
            result = await op()
        except (redis.exceptions.RedisError, OSError) as e:
            if self._down_since is None:
                log.warning("redis_unavailable", op=what, error=f"{type(e).__name__}: {e}"[:200])
            self._down_since = time.monotonic()
            raise StoreUnavailable(what) from e
        if self._down_since is not None:
            log.info("redis_available_again")
            self._down_since = None
        return result

    async def take(self, bucket: str, rate: float, burst: int) -> float:
        """One token from the shared bucket; the wait in seconds (0 = go ahead)."""
        key = f"{self._prefix}rl:{bucket}"
        wait = await self._run("take", lambda: self._take(keys=[key], args=[rate, burst]))
        return float(wait)

    async def revoke(self, sid: str, until: float) -> None:
        """Remember ``sid`` as signed out until ``until`` (unix time: its token's expiry)."""
        self._pending_revocations[sid] = until
        await self._flush_revocations()

    async def is_revoked(self, sid: str) -> bool:
        if self._pending_revocations:
            await self._flush_revocations()
        return bool(await self._run("is_revoked", lambda: self._redis.exists(f"{self._prefix}revoked:{sid}")))

    async def _flush_revocations(self) -> None:
        now = time.time()
        pending = {s: u for s, u in self._pending_revocations.items() if u > now}

        async def write() -> None:
            pipe = self._redis.pipeline(transaction=False)
            for sid, until in pending.items():
                pipe.set(f"{self._prefix}revoked:{sid}", "1", exat=int(until) + 60)
            await pipe.execute()

        if pending:
            await self._run("revoke", write)
        self._pending_revocations.clear()

    async def close(self) -> None:
        await self._redis.aclose()
