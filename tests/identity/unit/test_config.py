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


def test_production_refuses_the_public_development_ticket_key() -> None:
    with pytest.raises(SettingsError, match="PERMIT_IDENTITY_DEV_TICKET_KEY"):
        Settings.from_env({**BASE, "PERMIT_IDENTITY_ENV": "production"})
    s = Settings.from_env({**BASE, "PERMIT_IDENTITY_ENV": "production",
                           "PERMIT_IDENTITY_DEV_TICKET_KEY": "p" * 40})
    assert s.dev_ticket_key == "p" * 40


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
