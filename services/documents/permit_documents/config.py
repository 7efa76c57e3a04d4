"""Settings of the documents service, read from the environment and validated at start."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from permitkit.settings import (
    ServiceSettings,
    SettingsError,
    common_settings,
    data_dir,
    env_bool,
    env_int,
    env_str,
)

PREFIX = "PERMIT_DOCUMENTS"


@dataclass(frozen=True)
class S3Settings:
    """Where the S3-API server (MinIO) is; absent settings mean the local folder store."""

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool
    region: str
    public_endpoint: str | None
    public_secure: bool | None


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    """Everything the documents service needs to start: the common settings and its own."""

    s3: S3Settings | None
    folder: Path
    link_secret: bytes
    link_ttl_seconds: int
    sweep_interval_seconds: int
    sweep_grace_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        secret = env_str(env, f"{PREFIX}_LINK_SECRET")
        if secret and len(secret) < 16:
            raise SettingsError(f"{PREFIX}_LINK_SECRET must be at least 16 characters")
        return cls(
            **common_settings(env, "documents"),
            s3=_s3_from_env(env),
            folder=data_dir(env) / "documents",
            # Without a configured secret, links signed by one process are only
            # valid on that process: fine for `make run`, set it when scaling out.
            link_secret=(secret or secrets.token_hex(32)).encode(),
            link_ttl_seconds=env_int(env, f"{PREFIX}_LINK_TTL_SECONDS", 300, minimum=10, maximum=7 * 24 * 3600),
            sweep_interval_seconds=env_int(env, f"{PREFIX}_SWEEP_INTERVAL_SECONDS", 3600, minimum=0),
            sweep_grace_seconds=env_int(env, f"{PREFIX}_SWEEP_GRACE_SECONDS", 3600, minimum=60),
        )


def _split_endpoint(name: str, value: str, secure: bool) -> tuple[str, bool]:
    """``host:port`` or ``http(s)://host:port`` -> (host:port, secure)."""
    if "://" in value:
        parsed = urllib.parse.urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path not in ("", "/"):
            raise SettingsError(f"{name} must be host:port or http(s)://host:port, got {value!r}")
        return parsed.netloc, parsed.scheme == "https"
    host, sep, port = value.rpartition(":")
    if (sep and (not host or not port.isdigit())) or "/" in value:
        raise SettingsError(f"{name} must be host:port or http(s)://host:port, got {value!r}")
    return value, secure


def _s3_from_env(env: Mapping[str, str]) -> S3Settings | None:
    raw = env_str(env, f"{PREFIX}_S3_ENDPOINT")
    if not raw:
        return None
    secure = env_bool(env, f"{PREFIX}_S3_SECURE", False)
    endpoint, secure = _split_endpoint(f"{PREFIX}_S3_ENDPOINT", raw, secure)
    public_raw = env_str(env, f"{PREFIX}_S3_PUBLIC_ENDPOINT")
    public_endpoint: str | None = None
    public_secure: bool | None = None
    if public_raw:
        public_endpoint, public_secure = _split_endpoint(f"{PREFIX}_S3_PUBLIC_ENDPOINT", public_raw, secure)
    bucket = env_str(env, f"{PREFIX}_S3_BUCKET", "permit-documents")
    if not (3 <= len(bucket) <= 63) or not all(c.islower() or c.isdigit() or c in "-." for c in bucket):
        raise SettingsError(f"{PREFIX}_S3_BUCKET must be a valid S3 bucket name, got {bucket!r}")
    return S3Settings(
        endpoint=endpoint,
        access_key=env_str(env, f"{PREFIX}_S3_ACCESS_KEY", required=True),
        secret_key=env_str(env, f"{PREFIX}_S3_SECRET_KEY", required=True),
        bucket=bucket,
        secure=secure,
        region=env_str(env, f"{PREFIX}_S3_REGION", "us-east-1"),
        public_endpoint=public_endpoint,
        public_secure=public_secure,
    )
