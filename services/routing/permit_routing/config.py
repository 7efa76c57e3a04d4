"""Routing settings from the environment, validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import (
    SettingsError,
    env_bool,
    env_database_url,
    env_grpc_bind,
    env_int,
    env_str,
)

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything the routing service reads from its environment."""

    database_url: str
    grpc_host: str
    grpc_port: int
    log_json: bool
    log_level: str
    max_workers: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check the settings; raises permitkit.settings.SettingsError."""
        host, port = env_grpc_bind(env, "routing")
        level = env_str(env, "PERMIT_LOG_LEVEL", "INFO").upper()
        if level not in _LEVELS:
            raise SettingsError(f"PERMIT_LOG_LEVEL must be one of {', '.join(_LEVELS)}, got {level!r}")
        return cls(
            database_url=env_database_url(env, "routing"),
            grpc_host=host,
            grpc_port=port,
            log_json=env_bool(env, "PERMIT_LOG_JSON", True),
            log_level=level,
            max_workers=env_int(env, "PERMIT_ROUTING_GRPC_WORKERS", 16, minimum=1, maximum=256),
        )
