"""Settings of the approval service, read from the environment and validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import (
    ServiceSettings,
    SettingsError,
    common_settings,
    env_addr,
    env_float,
    env_str,
)

CONTEXT = "approval"
# Development only: a production deployment sets its own key (Secret).
DEV_VERIFICATION_KEY = "permit-approval-development-verification-key"


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """The common settings and approval's own."""

    application_addr: str
    routing_addr: str
    documents_addr: str
    notifications_addr: str
    verification_key: str
    peer_timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        key = env_str(env, "PERMIT_APPROVAL_VERIFICATION_KEY", DEV_VERIFICATION_KEY)
        if len(key.encode()) < 16:
            raise SettingsError("PERMIT_APPROVAL_VERIFICATION_KEY must be at least 16 bytes")
        return cls(
            **common_settings(env, CONTEXT),
            application_addr=env_addr(env, "application"),
            routing_addr=env_addr(env, "routing"),
            documents_addr=env_addr(env, "documents"),
            notifications_addr=env_addr(env, "notifications"),
            verification_key=key,
            peer_timeout=env_float(env, "PERMIT_APPROVAL_PEER_TIMEOUT", 5.0, minimum=0.1),
        )
