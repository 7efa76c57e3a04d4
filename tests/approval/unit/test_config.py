"""Settings of the approval service are validated at start with a clear message."""

from __future__ import annotations

import pytest

from permit_approval.config import Settings
from permitkit.settings import SettingsError


def test_defaults_are_the_documented_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert (s.grpc_host, s.grpc_port) == ("127.0.0.1", 50055)
    assert s.application_addr == "127.0.0.1:50052" and s.routing_addr == "127.0.0.1:50053"
    assert s.documents_addr == "127.0.0.1:50054"
    assert s.database_url == f"sqlite:///{tmp_path / 'approval.db'}"


@pytest.mark.parametrize(("env", "message"), [
    ({"PERMIT_APPROVAL_VERIFICATION_KEY": "short"}, "PERMIT_APPROVAL_VERIFICATION_KEY"),
    ({"PERMIT_APPROVAL_DATABASE_URL": "postgresql://x/y"}, "psycopg"),
    ({"APPLICATION_SERVICE_ADDR": "nohost"}, "APPLICATION_SERVICE_ADDR"),
    ({"DOCUMENTS_SERVICE_ADDR": "nohost"}, "DOCUMENTS_SERVICE_ADDR"),
    ({"PERMIT_APPROVAL_PEER_TIMEOUT": "0"}, "PERMIT_APPROVAL_PEER_TIMEOUT"),
    ({"PERMIT_LOG_LEVEL": "LOUD"}, "PERMIT_LOG_LEVEL"),
])
def test_a_bad_setting_names_itself(tmp_path, env: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path), **env})
    assert message in str(e.value)
