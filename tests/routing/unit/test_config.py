"""Routing settings: defaults, and a bad setting is one clear line at start."""

from __future__ import annotations

import pytest

from permit_routing.config import Settings
from permitkit.settings import SettingsError


def test_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert (s.grpc_host, s.grpc_port) == ("127.0.0.1", 50053)
    assert s.database_url.startswith("sqlite:///") and s.log_json and s.log_level == "INFO"


def test_postgres_url_and_port_from_env() -> None:
    s = Settings.from_env({"PERMIT_ROUTING_DATABASE_URL": "postgresql+psycopg://u@db/routing",
                           "PERMIT_ROUTING_GRPC_HOST": "0.0.0.0", "PERMIT_ROUTING_GRPC_PORT": "6000",
                           "PERMIT_LOG_LEVEL": "debug"})
    assert (s.database_url, s.grpc_host, s.grpc_port, s.log_level) == (
        "postgresql+psycopg://u@db/routing", "0.0.0.0", 6000, "DEBUG")


@pytest.mark.parametrize(("env", "names"), [
    ({"PERMIT_ROUTING_GRPC_PORT": "http"}, "PERMIT_ROUTING_GRPC_PORT"),
    ({"PERMIT_ROUTING_DATABASE_URL": "postgresql://u@db/x"}, "PERMIT_ROUTING_DATABASE_URL"),
    ({"PERMIT_LOG_JSON": "maybe"}, "PERMIT_LOG_JSON"),
    ({"PERMIT_LOG_LEVEL": "LOUD"}, "PERMIT_LOG_LEVEL"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], names: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=names):
        Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path), **env})
