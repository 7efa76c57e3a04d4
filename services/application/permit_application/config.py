"""Settings of the application service, read from the environment and validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import ServiceSettings, common_settings, env_addr, env_bool, env_float


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """The common settings and the application service's own."""

    approval_addr: str
    routing_addr: str
    documents_addr: str
    notifications_addr: str
    relay_enabled: bool
    peer_timeout: float

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
        )
