"""Notifications' Alembic migrations: match the models, reversible, work on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from permit_notifications.__main__ import MIGRATIONS
from permit_notifications.config import Settings
from permit_notifications.models import metadata
from permitkit.migrations import downgrade, upgrade


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def test_migration_files_have_dated_names() -> None:
    names = [p.name for p in (MIGRATIONS / "versions").glob("*.py")]
    assert names and all(n[:4].isdigit() and n[4] == "-" and "_" in n for n in names)


@pytest.mark.integration
def test_postgres_schema_at_head_matches_the_models_and_downgrades(make_database: Callable[[str], str]) -> None:
    url = make_database("notifications_mig")
    upgrade(url, MIGRATIONS)
    assert _diff(url) == []
    downgrade(url, MIGRATIONS, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade(url, MIGRATIONS)
    assert _diff(url) == []


def test_embedded_sqlite_default_migrates(tmp_path: Path) -> None:
    settings = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade(settings.database_url, MIGRATIONS)
    assert _diff(settings.database_url) == []
