"""Notifications settings from the environment, validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import (
    SettingsError,
    env_bool,
    env_database_url,
    env_float,
    env_grpc_bind,
    env_int,
    env_str,
)

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything the notifications service reads from its environment."""

    database_url: str
    grpc_host: str
    grpc_port: int
    log_json: bool
    log_level: str
    max_workers: int
    # Plain-HTTP webhooks to a loopback address (development and tests only).
    webhook_allow_http_loopback: bool
    webhook_timeout: float
    delivery_max_attempts: int
    delivery_base_delay: float
    reminder_interval: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check the settings; raises permitkit.settings.SettingsError."""
        host, port = env_grpc_bind(env, "notifications")
        level = env_str(env, "PERMIT_LOG_LEVEL", "INFO").upper()
        if level not in _LEVELS:
            raise SettingsError(f"PERMIT_LOG_LEVEL must be one of {', '.join(_LEVELS)}, got {level!r}")
        return cls(
            database_url=env_database_url(env, "notifications"),
            grpc_host=host,
            grpc_port=port,
            log_json=env_bool(env, "PERMIT_LOG_JSON", True),
            log_level=level,
            max_workers=env_int(env, "PERMIT_NOTIFICATIONS_GRPC_WORKERS", 16, minimum=1, maximum=256),
            webhook_allow_http_loopback=env_bool(env, "PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK", False),
            webhook_timeout=env_float(env, "PERMIT_NOTIFICATIONS_WEBHOOK_TIMEOUT", 5.0, minimum=0.1),
            delivery_max_attempts=env_int(env, "PERMIT_NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS", 8, minimum=1,
                                          maximum=100),
            delivery_base_delay=env_float(env, "PERMIT_NOTIFICATIONS_DELIVERY_BASE_DELAY", 1.0, minimum=0.01),
            reminder_interval=env_float(env, "PERMIT_NOTIFICATIONS_REMINDER_INTERVAL", 60.0, minimum=0.05),
        )
