"""Identity settings from the environment, validated at start (fail fast, one line)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

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
# Signing keys are encrypted at rest by default; outside production, without a
# passphrase from the secret store, under this public one (production needs its own).
DEFAULT_DEV_KEY_PASSPHRASE = "permit-dev-key-passphrase-not-for-production"
OIDC_CHANNELS = ("APP", "ALIPAY", "WECHAT", "STAFF")


@dataclass(frozen=True)
class OidcClientSetting:
    """One channel's relying-party client: id, secret (from the secret store), redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


def _oidc_clients(env: Mapping[str, str], *, platform: bool, staff: bool) -> dict[str, OidcClientSetting]:
    out: dict[str, OidcClientSetting] = {}
    for ch in OIDC_CHANNELS:
        prefix = f"PERMIT_IDENTITY_OIDC_{ch}"
        client_id = env_str(env, f"{prefix}_CLIENT_ID", "")
        if not client_id:
            continue
        if not (staff if ch == "STAFF" else platform):
            issuer = "PERMIT_IDENTITY_STAFF_OIDC_ISSUER" if ch == "STAFF" else "PERMIT_IDENTITY_OIDC_ISSUER"
            raise SettingsError(f"{prefix}_CLIENT_ID is set but {issuer} is not")
        uris = tuple(u.strip() for u in env_str(env, f"{prefix}_REDIRECT_URIS", "").split(",") if u.strip())
        if not uris:
            raise SettingsError(f"{prefix}_REDIRECT_URIS must list the client's registered redirect URIs")
        out[ch] = OidcClientSetting(client_id, env_str(env, f"{prefix}_CLIENT_SECRET", ""), uris)
    if ch_missing := [c for c in ("ALIPAY", "WECHAT") if c in out and not out[c].client_secret]:
        raise SettingsError(f"PERMIT_IDENTITY_OIDC_{ch_missing[0]}_CLIENT_SECRET is required: the "
                            "mini-program's code is exchanged server to server")
    return out


def _issuer(env: Mapping[str, str], name: str, environment: str) -> str:
    issuer = env_str(env, name, "").rstrip("/")
    if issuer and not issuer.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an https URL, got {issuer!r}")
    if issuer.startswith("http://") and environment == "production":
        raise SettingsError(f"{name} must be an https URL in production, got {issuer!r}")
    return issuer


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
    # Sign-in (SI-1, SI-2): the development ticket provider only when switched on.
    dev_sign_in: bool = False
    oidc_issuer: str = ""
    staff_oidc_issuer: str = ""
    oidc_clients: Mapping[str, OidcClientSetting] = field(default_factory=dict)
    oidc_timeout: float = 5.0
    oidc_jwks_min_refresh: dt.timedelta = dt.timedelta(seconds=10)
    min_real_name_level: int = 0

    def check_serving(self) -> None:
        """What a serving production instance needs beyond what every command does."""
        if self.environment != "production":
            return
        if not self.oidc_issuer and not self.staff_oidc_issuer:
            raise SettingsError("production needs PERMIT_IDENTITY_OIDC_ISSUER and/or "
                                "PERMIT_IDENTITY_STAFF_OIDC_ISSUER: with development sign-in refused, "
                                "nobody could sign in")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        environment = env_str(env, "PERMIT_IDENTITY_ENV", "development").lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"PERMIT_IDENTITY_ENV must be one of {', '.join(ENVIRONMENTS)}, "
                                f"got {environment!r}")
        dev_sign_in = env_bool(env, "PERMIT_IDENTITY_DEV_SIGN_IN", False)
        if environment == "production" and dev_sign_in:
            # SI-2: a production deployment refuses development sign-in.
            raise SettingsError("PERMIT_IDENTITY_DEV_SIGN_IN is on but PERMIT_IDENTITY_ENV is production: "
                                "production refuses development sign-in tickets; switch it off")
        key = env_str(env, "PERMIT_IDENTITY_DEV_TICKET_KEY", DEFAULT_DEV_TICKET_KEY)
        if len(key) < 32:
            raise SettingsError("PERMIT_IDENTITY_DEV_TICKET_KEY must be at least 32 characters")
        access = env_int(env, "PERMIT_IDENTITY_ACCESS_TOKEN_TTL_SECONDS", 900, minimum=30, maximum=3600)
        refresh = env_int(env, "PERMIT_IDENTITY_REFRESH_TOKEN_TTL_SECONDS", 7 * 86400,
                          minimum=60, maximum=90 * 86400)
        session_max = env_int(env, "PERMIT_IDENTITY_SESSION_MAX_SECONDS", 30 * 86400,
                              minimum=60, maximum=365 * 86400)
        max_age = env_int(env, "PERMIT_IDENTITY_KEY_MAX_AGE_DAYS", 30, minimum=0, maximum=3650)
        passphrase = env_str(env, "PERMIT_IDENTITY_KEY_PASSPHRASE", "")
        if not passphrase:
            if environment == "production":
                raise SettingsError("PERMIT_IDENTITY_KEY_PASSPHRASE must be set in production (from the "
                                    "secret store): the signing keys are encrypted at rest with it")
            passphrase = DEFAULT_DEV_KEY_PASSPHRASE
        elif len(passphrase) < 16:
            raise SettingsError("PERMIT_IDENTITY_KEY_PASSPHRASE must be at least 16 characters")
        issuer = _issuer(env, "PERMIT_IDENTITY_OIDC_ISSUER", environment)
        staff_issuer = _issuer(env, "PERMIT_IDENTITY_STAFF_OIDC_ISSUER", environment)
        return cls(
            **common_settings(env, "identity"),
            environment=environment, dev_ticket_key=key,
            access_ttl=dt.timedelta(seconds=access),
            refresh_ttl=dt.timedelta(seconds=refresh),
            session_max=dt.timedelta(seconds=session_max),
            key_passphrase=passphrase,
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
            dev_sign_in=dev_sign_in, oidc_issuer=issuer, staff_oidc_issuer=staff_issuer,
            oidc_clients=_oidc_clients(env, platform=bool(issuer), staff=bool(staff_issuer)),
            oidc_timeout=env_float(env, "PERMIT_IDENTITY_OIDC_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            oidc_jwks_min_refresh=dt.timedelta(seconds=env_int(
                env, "PERMIT_IDENTITY_OIDC_JWKS_MIN_REFRESH_SECONDS", 10, minimum=0, maximum=3600)),
            min_real_name_level=env_int(env, "PERMIT_IDENTITY_OIDC_MIN_REAL_NAME_LEVEL", 0,
                                        minimum=0, maximum=9),
        )
