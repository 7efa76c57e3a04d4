"""Notifications settings from the environment, validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import ServiceSettings, common_settings, env_bool, env_float, env_int

CONTEXT = "notifications"


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """The common settings and the delivery policy."""

    # Plain-HTTP webhooks to a loopback address (development and tests only).
    webhook_allow_http_loopback: bool
    webhook_timeout: float
    delivery_max_attempts: int
    delivery_base_delay: float
    reminder_interval: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check the settings; raises permitkit.settings.SettingsError."""
        return cls(
            **common_settings(env, CONTEXT),
            webhook_allow_http_loopback=env_bool(env, "PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK", False),
            webhook_timeout=env_float(env, "PERMIT_NOTIFICATIONS_WEBHOOK_TIMEOUT", 5.0, minimum=0.1),
            delivery_max_attempts=env_int(env, "PERMIT_NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS", 8, minimum=1,
                                          maximum=100),
            delivery_base_delay=env_float(env, "PERMIT_NOTIFICATIONS_DELIVERY_BASE_DELAY", 1.0, minimum=0.01),
            reminder_interval=env_float(env, "PERMIT_NOTIFICATIONS_REMINDER_INTERVAL", 60.0, minimum=0.05),
        )
