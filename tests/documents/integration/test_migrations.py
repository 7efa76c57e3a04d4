"""The documents migrations build exactly the model's schema and are reversible."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from permit_documents.__main__ import MIGRATIONS
from permit_documents.models import Base
from permitkit.migrations import downgrade, upgrade

pytestmark = pytest.mark.integration


def test_upgrade_matches_models_and_downgrade_removes_tables(make_database):
    url = make_database("documents_mig")
    upgrade(url, MIGRATIONS)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        downgrade(url, MIGRATIONS, "base")
        assert not {"document", "document_grant"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
