"""Identity settings from the environment, validated at start (fail fast, one line)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY
from permitkit.settings import (
    ServiceSettings,
    SettingsError,
    common_settings,
    env_addr,
    env_bool,
    env_float,
    env_int,
    env_str,
)

ENVIRONMENTS = ("development", "test", "production")


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """Everything the identity service reads from its environment: the common
    settings and its own."""

    environment: str
    dev_ticket_key: str
    access_ttl: dt.timedelta
    refresh_ttl: dt.timedelta
    session_max: dt.timedelta
    key_passphrase: str
    key_max_age: dt.timedelta | None
    key_prepublish: dt.timedelta
    sign_in_limit: int
    sign_in_window: dt.timedelta
    documents_addr: str
    notifications_addr: str
    verify_documents: bool
    approval_addr: str
    calendar_timeout: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        environment = env_str(env, "PERMIT_IDENTITY_ENV", "development").lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"PERMIT_IDENTITY_ENV must be one of {', '.join(ENVIRONMENTS)}, "
                                f"got {environment!r}")
        key = env_str(env, "PERMIT_IDENTITY_DEV_TICKET_KEY", DEFAULT_DEV_TICKET_KEY)
        if environment == "production" and key == DEFAULT_DEV_TICKET_KEY:
            raise SettingsError("PERMIT_IDENTITY_DEV_TICKET_KEY must be set to a private key in "
                                "production (the built-in development key is public)")
        if len(key) < 32:
            raise SettingsError("PERMIT_IDENTITY_DEV_TICKET_KEY must be at least 32 characters")
        access = env_int(env, "PERMIT_IDENTITY_ACCESS_TOKEN_TTL_SECONDS", 900, minimum=30, maximum=3600)
        refresh = env_int(env, "PERMIT_IDENTITY_REFRESH_TOKEN_TTL_SECONDS", 7 * 86400,
                          minimum=60, maximum=90 * 86400)
        session_max = env_int(env, "PERMIT_IDENTITY_SESSION_MAX_SECONDS", 30 * 86400,
                              minimum=60, maximum=365 * 86400)
        max_age = env_int(env, "PERMIT_IDENTITY_KEY_MAX_AGE_DAYS", 30, minimum=0, maximum=3650)
        return cls(
            **common_settings(env, "identity"),
            environment=environment, dev_ticket_key=key,
            access_ttl=dt.timedelta(seconds=access),
            refresh_ttl=dt.timedelta(seconds=refresh),
            session_max=dt.timedelta(seconds=session_max),
            key_passphrase=env_str(env, "PERMIT_IDENTITY_KEY_PASSPHRASE", ""),
            key_max_age=dt.timedelta(days=max_age) if max_age else None,
            key_prepublish=dt.timedelta(seconds=env_int(
                env, "PERMIT_IDENTITY_KEY_PREPUBLISH_SECONDS", 600, minimum=0, maximum=86400)),
            sign_in_limit=env_int(env, "PERMIT_IDENTITY_SIGN_IN_LIMIT", 10, minimum=1, maximum=10000),
            sign_in_window=dt.timedelta(seconds=env_int(
                env, "PERMIT_IDENTITY_SIGN_IN_WINDOW_SECONDS", 60, minimum=1, maximum=86400)),
            documents_addr=env_addr(env, "documents"),
            notifications_addr=env_addr(env, "notifications"),
            verify_documents=env_bool(env, "PERMIT_IDENTITY_VERIFY_DOCUMENTS", True),
            approval_addr=env_addr(env, "approval"),
            calendar_timeout=env_float(env, "PERMIT_IDENTITY_CALENDAR_TIMEOUT", 2.0, minimum=0.1),
        )
