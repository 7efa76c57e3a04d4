"""Routing on the embedded SQLite default: migrated, it serves the history (schema checks of every
service: tests/test_migrations.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from permit_routing import services
from permit_routing.__main__ import MIGRATIONS
from permit_routing.bootstrap import build
from permit_routing.config import Settings
from permit_routing.models import metadata
from permit_routing.routes import Row
from permitkit.context import Principal
from permitkit.migrations import schema_drift, upgrade


def test_embedded_sqlite_default_migrates_and_serves_history_AP_7c(tmp_path: Path) -> None:
    """With no database URL the service uses a SQLite file under PERMIT_DATA_DIR."""
    settings = Settings.from_env({"PERMIT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'routing.db'}"
    upgrade(settings.database_url, MIGRATIONS)
    assert schema_drift(settings.database_url, metadata) == []
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
