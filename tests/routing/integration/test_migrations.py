"""Routing's Alembic migrations: match the models, reversible, work on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from permit_routing import services
from permit_routing.__main__ import MIGRATIONS
from permit_routing.bootstrap import build
from permit_routing.config import Settings
from permit_routing.models import metadata
from permit_routing.routes import Row
from permitkit.context import Principal
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
    url = make_database("routing_mig")
    upgrade(url, MIGRATIONS)
    assert _diff(url) == []
    downgrade(url, MIGRATIONS, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade(url, MIGRATIONS)
    assert _diff(url) == []


def test_embedded_sqlite_default_migrates_and_serves_history_AP_7c(tmp_path: Path) -> None:
    """With no database URL the service uses a SQLite file under PERMIT_DATA_DIR."""
    settings = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'routing.db'}"
    upgrade(settings.database_url, MIGRATIONS)
    assert _diff(settings.database_url) == []
    app = build(settings)
    try:
        service = Principal(subject="services/application", roles=frozenset({"service"}))
        for i in range(2):
            services.record_approved_route(
                app.uow_factory(), ref=app.ref, principal=service, event_id=f"e{i}", applicant="parties/p1",
                application=f"applications/A{i}", origin_province="130000", destination_province="410000",
                rows=[Row("130000", ("G4",)), Row("410000", ("G4",))],
                approve_time=dt.datetime(2026, 11, 1 + i, tzinfo=dt.UTC))
        me = Principal(subject="users/u1", party="parties/p1", roles=frozenset({"applicant"}))
        (route,) = services.recommend_routes(app.uow_factory(), ref=app.ref, principal=me,
                                             origin_province="130000", destination_province="410000").items
        assert route.times_approved == 2
        assert route.last_approve_time == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
        assert route.last_application == "applications/A1"
    finally:
        app.close()
