"""The Alembic migrations build exactly the schema the models declare, and reverse cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from permit_approval.__main__ import MIGRATIONS
from permit_approval.models import Base
from permitkit.migrations import downgrade, upgrade

pytestmark = pytest.mark.integration


def test_migrated_schema_matches_the_models(approval_db: str) -> None:
    engine = create_engine(approval_db)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_removes_every_table_and_upgrade_restores_them(make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database("approval")
    upgrade(url, MIGRATIONS)
    downgrade(url, MIGRATIONS)
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url, MIGRATIONS)
        assert {"review_case", "review", "permit", "outbox_event", "inbox_event"} <= set(
            inspect(engine).get_table_names())
    finally:
        engine.dispose()
