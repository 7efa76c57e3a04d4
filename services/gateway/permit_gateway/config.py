"""Gateway settings from the environment, validated at start."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from permitkit.settings import CONTEXTS, SettingsError, env_addr, env_float, env_int, env_str

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests a second on average, bursts of ``burst``; rate 0 = off."""

    rate: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.rate > 0


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    peers: dict[str, str]
    call_timeout: float
    transfer_timeout: float
    token_issuer: str
    token_audience: str
    max_body_bytes: int
    max_upload_bytes: int
    session_recheck_seconds: float
    cors_origins: tuple[str, ...]
    rate_per_user: RateLimit
    rate_per_address: RateLimit
    trusted_proxies: tuple[IPNetwork, ...]
    redis_url: str = ""
    redis_prefix: str = "permit:gateway:"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            host=env_str(env, "PERMIT_GATEWAY_HOST", "127.0.0.1"),
            port=env_int(env, "PERMIT_GATEWAY_PORT", 8080, minimum=0, maximum=65535),
            peers={c: env_addr(env, c) for c in CONTEXTS},
            call_timeout=env_float(env, "PERMIT_GATEWAY_CALL_TIMEOUT", 10.0, minimum=0.1),
            # Uploads and downloads move up to a few MB over a phone's network: the
            # whole transfer (client and backend side) must end within this.
            transfer_timeout=env_float(env, "PERMIT_GATEWAY_TRANSFER_TIMEOUT", 60.0, minimum=0.1),
            token_issuer=env_str(env, "PERMIT_TOKEN_ISSUER", "permit-identity"),
            token_audience=env_str(env, "PERMIT_TOKEN_AUDIENCE", "permit"),
            max_body_bytes=env_int(env, "PERMIT_GATEWAY_MAX_BODY_BYTES", 256 * 1024, minimum=1),
            # The documents service enforces the 1 MB file limit; this only bounds what
            # the gateway will relay (file plus multipart framing) before refusing.
            max_upload_bytes=env_int(env, "PERMIT_GATEWAY_MAX_UPLOAD_BYTES", 2 * 1024 * 1024, minimum=1),
            # How often a token's session is re-confirmed with identity (0 = never):
            # the longest a signed-out token keeps working.
            session_recheck_seconds=env_float(env, "PERMIT_GATEWAY_SESSION_RECHECK_SECONDS", 30.0),
            cors_origins=_origins(env, "PERMIT_GATEWAY_CORS_ORIGINS"),
            rate_per_user=_rate(env, "PERMIT_GATEWAY_RATE_PER_USER", 10.0, 40),
            rate_per_address=_rate(env, "PERMIT_GATEWAY_RATE_PER_ADDRESS", 50.0, 200),
            trusted_proxies=_networks(env, "PERMIT_GATEWAY_TRUSTED_PROXIES"),
            # The replicas' shared rate limits and sign-outs (redis://host:6379/0); empty: in-process.
            redis_url=_redis_url(env, "PERMIT_GATEWAY_REDIS_URL"),
            redis_prefix=env_str(env, "PERMIT_GATEWAY_REDIS_PREFIX", "permit:gateway:"),
        )


def _items(env: Mapping[str, str], name: str) -> list[str]:
    return [s.strip() for s in env_str(env, name).split(",") if s.strip()]


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated ``scheme://host[:port]`` origins of the web pages (or ``*``)."""
    out = []
    for origin in _items(env, name):
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc
                              or parts.path or parts.query or parts.fragment):
            raise SettingsError(f"{name} must list origins like https://host[:port], got {origin!r}")
        out.append(origin)
    return tuple(out)


def _rate(env: Mapping[str, str], name: str, rate: float, burst: int) -> RateLimit:
    return RateLimit(rate=env_float(env, name, rate),
                     burst=env_int(env, f"{name}_BURST", burst, minimum=1))


def _networks(env: Mapping[str, str], name: str) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR blocks of the reverse proxies whose X-Forwarded-For is believed."""
    try:
        return tuple(ipaddress.ip_network(s, strict=False) for s in _items(env, name))
    except ValueError as e:
        raise SettingsError(f"{name} must list IP addresses or networks: {e}") from None


def _redis_url(env: Mapping[str, str], name: str) -> str:
    url = env_str(env, name, "")
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{name} must be a redis://host:port/db URL, got {url!r}")
    return url
