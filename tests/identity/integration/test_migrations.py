"""The identity migrations run to head, back to base and up again, and match the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from permit_identity.models import Base
from permitkit.migrations import downgrade, upgrade
from tests.identity.conftest import MIGRATIONS

pytestmark = pytest.mark.integration


def test_migrations_are_reversible_and_complete(make_database: Callable[[str], str]) -> None:
    url = make_database("identity_mig")
    upgrade(url, MIGRATIONS)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        downgrade(url, MIGRATIONS, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url, MIGRATIONS)
        assert {"party", "platform_user", "legacy_account", "licence", "signing_key"} <= set(
            inspect(engine).get_table_names())
    finally:
        engine.dispose()
