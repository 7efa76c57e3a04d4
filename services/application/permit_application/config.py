"""Settings of the application service, read from the environment and validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import (
    ServiceSettings,
    SettingsError,
    common_settings,
    env_addr,
    env_bool,
    env_float,
    env_str,
)


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """The common settings and the application service's own."""

    approval_addr: str
    routing_addr: str
    documents_addr: str
    notifications_addr: str
    relay_enabled: bool
    peer_timeout: float
    # Signs the permit notice's receipts (AP-1); replicas must share it. Unset: a
    # random key per process (a restart asks for the notice again).
    notice_key: bytes | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Every setting, or SettingsError naming the bad one."""
        return cls(
            **common_settings(env, "application"),
            approval_addr=env_addr(env, "approval"),
            routing_addr=env_addr(env, "routing"),
            documents_addr=env_addr(env, "documents"),
            notifications_addr=env_addr(env, "notifications"),
            relay_enabled=env_bool(env, "PERMIT_APPLICATION_RELAY", True),
            peer_timeout=env_float(env, "PERMIT_APPLICATION_PEER_TIMEOUT", 5.0, minimum=0.1),
            notice_key=_notice_key(env),
        )


def _notice_key(env: Mapping[str, str]) -> bytes | None:
    key = env_str(env, "PERMIT_APPLICATION_NOTICE_KEY", "")
    if key and len(key) < 16:
        raise SettingsError("PERMIT_APPLICATION_NOTICE_KEY must be at least 16 characters")
    return key.encode() if key else None
