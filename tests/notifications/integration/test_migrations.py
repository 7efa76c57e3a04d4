"""Notifications on the embedded SQLite default (schema checks of every service: tests/test_migrations.py)."""

from __future__ import annotations

from pathlib import Path

from permit_notifications.__main__ import MIGRATIONS
from permit_notifications.config import Settings
from permit_notifications.models import metadata
from permitkit.migrations import schema_drift, upgrade


def test_embedded_sqlite_default_migrates(tmp_path: Path) -> None:
    settings = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade(settings.database_url, MIGRATIONS)
    assert schema_drift(settings.database_url, metadata) == []
