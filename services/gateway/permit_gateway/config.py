"""Gateway settings from the environment, validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import CONTEXTS, env_addr, env_float, env_int, env_str


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    peers: dict[str, str]
    call_timeout: float
    token_issuer: str
    token_audience: str
    max_upload_bytes: int
    session_recheck_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            host=env_str(env, "PERMIT_GATEWAY_HOST", "127.0.0.1"),
            port=env_int(env, "PERMIT_GATEWAY_PORT", 8080, minimum=0, maximum=65535),
            peers={c: env_addr(env, c) for c in CONTEXTS},
            call_timeout=env_float(env, "PERMIT_GATEWAY_CALL_TIMEOUT", 10.0, minimum=0.1),
            token_issuer=env_str(env, "PERMIT_TOKEN_ISSUER", "permit-identity"),
            token_audience=env_str(env, "PERMIT_TOKEN_AUDIENCE", "permit"),
            # The documents service enforces the 1 MB limit; this only bounds what
            # the gateway will relay so a huge body is cut before it costs memory.
            max_upload_bytes=env_int(env, "PERMIT_GATEWAY_MAX_UPLOAD_BYTES", 2 * 1024 * 1024, minimum=1),
            # How often a token's session is re-confirmed with identity (0 = never):
            # the longest a signed-out token keeps working.
            session_recheck_seconds=env_float(env, "PERMIT_GATEWAY_SESSION_RECHECK_SECONDS", 30.0),
        )
