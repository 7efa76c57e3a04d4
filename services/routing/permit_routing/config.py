"""Routing settings from the environment, validated at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from permitkit.settings import ServiceSettings, common_settings

CONTEXT = "routing"


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """Routing reads only the common settings (``permitkit.settings.common_settings``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check the settings; raises permitkit.settings.SettingsError."""
        return cls(**common_settings(env, CONTEXT))
