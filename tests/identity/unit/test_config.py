"""Settings are validated at start: a bad one is one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from permit_identity.config import Settings
from permitkit.settings import SettingsError

BASE = {"PERMIT_IDENTITY_DATABASE_URL": "sqlite:///x.db"}


def test_defaults_are_the_documented_ones() -> None:
    s = Settings.from_env(BASE)
    assert (s.grpc_host, s.grpc_port) == ("127.0.0.1", 50051)
    assert s.access_ttl.total_seconds() == 900 and s.environment == "development"


PRODUCTION = {**BASE, "PERMIT_IDENTITY_ENV": "production", "PERMIT_IDENTITY_KEY_PASSPHRASE": "k" * 32}


def test_development_sign_in_is_off_unless_switched_on_SI_2() -> None:
    assert Settings.from_env(BASE).dev_sign_in is False
    assert Settings.from_env({**BASE, "PERMIT_IDENTITY_DEV_SIGN_IN": "1"}).dev_sign_in is True


def test_production_refuses_development_sign_in_SI_2() -> None:
    with pytest.raises(SettingsError, match="PERMIT_IDENTITY_DEV_SIGN_IN is on but PERMIT_IDENTITY_ENV is "
                                            "production"):
        Settings.from_env({**PRODUCTION, "PERMIT_IDENTITY_DEV_SIGN_IN": "true"})
    assert Settings.from_env(PRODUCTION).dev_sign_in is False


def test_signing_keys_are_encrypted_by_default_and_production_needs_its_own_passphrase() -> None:
    from permit_identity.config import DEFAULT_DEV_KEY_PASSPHRASE

    assert Settings.from_env(BASE).key_passphrase == DEFAULT_DEV_KEY_PASSPHRASE
    with pytest.raises(SettingsError, match="PERMIT_IDENTITY_KEY_PASSPHRASE must be set in production"):
        Settings.from_env({**BASE, "PERMIT_IDENTITY_ENV": "production"})
    assert Settings.from_env(PRODUCTION).key_passphrase == "k" * 32


def test_oidc_clients_per_channel_from_settings_SI_1() -> None:
    s = Settings.from_env({
        **BASE, "PERMIT_IDENTITY_OIDC_ISSUER": "https://uias.example.gov.cn/",
        "PERMIT_IDENTITY_OIDC_APP_CLIENT_ID": "app", "PERMIT_IDENTITY_OIDC_APP_REDIRECT_URIS":
            "cn.gov.app:/cb, https://h5.example.cn/cb",
        "PERMIT_IDENTITY_OIDC_WECHAT_CLIENT_ID": "wx", "PERMIT_IDENTITY_OIDC_WECHAT_CLIENT_SECRET": "s" * 20,
        "PERMIT_IDENTITY_OIDC_WECHAT_REDIRECT_URIS": "https://mp.example.cn/cb"})
    assert s.oidc_issuer == "https://uias.example.gov.cn"
    assert s.oidc_clients["APP"].redirect_uris == ("cn.gov.app:/cb", "https://h5.example.cn/cb")
    assert s.oidc_clients["WECHAT"].client_secret == "s" * 20 and "STAFF" not in s.oidc_clients
    with pytest.raises(SettingsError, match="PERMIT_IDENTITY_STAFF_OIDC_ISSUER is not"):
        Settings.from_env({**BASE, "PERMIT_IDENTITY_OIDC_STAFF_CLIENT_ID": "staff",
                           "PERMIT_IDENTITY_OIDC_STAFF_REDIRECT_URIS": "https://x/cb"})
    with pytest.raises(SettingsError, match="PERMIT_IDENTITY_OIDC_ALIPAY_CLIENT_SECRET is required"):
        Settings.from_env({**BASE, "PERMIT_IDENTITY_OIDC_ISSUER": "https://uias.example.gov.cn",
                           "PERMIT_IDENTITY_OIDC_ALIPAY_CLIENT_ID": "ali",
                           "PERMIT_IDENTITY_OIDC_ALIPAY_REDIRECT_URIS": "https://x/cb"})
    with pytest.raises(SettingsError, match="must be an https URL in production"):
        Settings.from_env({**PRODUCTION, "PERMIT_IDENTITY_OIDC_ISSUER": "http://uias.example.gov.cn"})


@pytest.mark.parametrize("name,value", [
    ("PERMIT_IDENTITY_GRPC_PORT", "abc"),
    ("PERMIT_IDENTITY_ACCESS_TOKEN_TTL_SECONDS", "5"),
    ("PERMIT_IDENTITY_ENV", "staging"),
    ("PERMIT_IDENTITY_DATABASE_URL", "postgresql://x/y"),
    ("PERMIT_IDENTITY_DEV_TICKET_KEY", "short"),
])
def test_bad_setting_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


def test_bad_setting_stops_the_process_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "PERMIT_IDENTITY_GRPC_PORT": "nope",
           "PERMIT_DATA_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "permit_identity", "serve"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "configuration error: PERMIT_IDENTITY_GRPC_PORT must be an integer, got 'nope'"]
