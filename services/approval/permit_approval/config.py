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
    env_int,
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
    identity_addr: str
    # CT-2: the public address of the gateway's verification page, printed in the QR code.
    verify_base_url: str
    certificate_key_rotate_days: int
    certificate_key_passphrase: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        key = env_str(env, "PERMIT_APPROVAL_VERIFICATION_KEY", DEV_VERIFICATION_KEY)
        if len(key.encode()) < 16:
            raise SettingsError("PERMIT_APPROVAL_VERIFICATION_KEY must be at least 16 bytes")
        base = env_str(env, "PERMIT_APPROVAL_VERIFY_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise SettingsError("PERMIT_APPROVAL_VERIFY_BASE_URL must be an http(s) address, "
                                f"got {base!r}")
        return cls(
            **common_settings(env, CONTEXT),
            identity_addr=env_addr(env, "identity"),
            verify_base_url=base,
            certificate_key_rotate_days=env_int(env, "PERMIT_APPROVAL_CERTIFICATE_KEY_ROTATE_DAYS",
                                                90, minimum=1),
            certificate_key_passphrase=env_str(env, "PERMIT_APPROVAL_CERTIFICATE_KEY_PASSPHRASE", ""),
            application_addr=env_addr(env, "application"),
            routing_addr=env_addr(env, "routing"),
            documents_addr=env_addr(env, "documents"),
            notifications_addr=env_addr(env, "notifications"),
            verification_key=key,
            peer_timeout=env_float(env, "PERMIT_APPROVAL_PEER_TIMEOUT", 5.0, minimum=0.1),
        )
