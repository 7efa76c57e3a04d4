"""Settings of the approval service, read from the environment and validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import (
    SettingsError,
    env_addr,
    env_bool,
    env_database_url,
    env_float,
    env_grpc_bind,
    env_int,
    env_str,
)

CONTEXT = "approval"
# Development only: a production deployment sets its own key (Secret).
DEV_VERIFICATION_KEY = "permit-approval-development-verification-key"


@dataclass(frozen=True)
class Settings:
    database_url: str
    grpc_host: str
    grpc_port: int
    application_addr: str
    routing_addr: str
    documents_addr: str
    verification_key: str
    peer_timeout: float
    log_json: bool
    log_level: str
    identity_addr: str = "127.0.0.1:50051"
    # CT-2: the public address of the gateway's verification page, printed in the QR code.
    verify_base_url: str = "http://127.0.0.1:8080"
    certificate_key_rotate_days: int = 90
    certificate_key_passphrase: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        host, port = env_grpc_bind(env, CONTEXT)
        key = env_str(env, "PERMIT_APPROVAL_VERIFICATION_KEY", DEV_VERIFICATION_KEY)
        if len(key.encode()) < 16:
            raise SettingsError("PERMIT_APPROVAL_VERIFICATION_KEY must be at least 16 bytes")
        level = env_str(env, "PERMIT_LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"PERMIT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        base = env_str(env, "PERMIT_APPROVAL_VERIFY_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise SettingsError("PERMIT_APPROVAL_VERIFY_BASE_URL must be an http(s) address, "
                                f"got {base!r}")
        return cls(
            identity_addr=env_addr(env, "identity"),
            verify_base_url=base,
            certificate_key_rotate_days=env_int(env, "PERMIT_APPROVAL_CERTIFICATE_KEY_ROTATE_DAYS",
                                                90, minimum=1),
            certificate_key_passphrase=env_str(env, "PERMIT_APPROVAL_CERTIFICATE_KEY_PASSPHRASE", ""),
            database_url=env_database_url(env, CONTEXT),
            grpc_host=host,
            grpc_port=port,
            application_addr=env_addr(env, "application"),
            routing_addr=env_addr(env, "routing"),
            documents_addr=env_addr(env, "documents"),
            verification_key=key,
            peer_timeout=env_float(env, "PERMIT_APPROVAL_PEER_TIMEOUT", 5.0, minimum=0.1),
            log_json=env_bool(env, "PERMIT_LOG_JSON", True),
            log_level=level,
        )
