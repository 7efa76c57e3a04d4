"""Approval on the embedded SQLite default: the migrated schema serves a case end to end
(the schema checks of every service are in tests/test_migrations.py)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from permit_approval.__main__ import MIGRATIONS
from permit_approval.models import Base
from permitkit.migrations import upgrade


def test_the_embedded_sqlite_default_migrates_and_serves_a_case(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`make run` uses SQLite files: the same migrations and use cases must work there."""
    import datetime as dt

    from permit_approval import queue_counts, services
    from permit_approval.unit_of_work import ApprovalUnitOfWork
    from permitkit.context import Principal
    from permitkit.db import make_engine, make_session_factory

    url = f"sqlite:///{tmp_path / 'approval.db'}"
    upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        uow = ApprovalUnitOfWork(make_session_factory(engine))
        now = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
        case = services.create_case(
            uow, principal=Principal(subject="services/application", roles=frozenset({"service"})),
            event_id="e1", now=now, submission=services.Submission(
                application="applications/A1", application_number="DJ1", applicant="parties/p1",
                origin_province="130000", destination_province="370000",
                route_provinces=["130000", "370000"], permit_class=1))[0]
        officer = Principal(subject="officers/1", province="130000", roles=frozenset({"officer.accept"}))
        case = services.accept_case(uow, principal=officer, name=case.name, etag=case.etag, now=now)
        assert [r.province for r in case.reviews] == ["130000", "370000"]
        assert case.etag == '"2"'
        # The work queue and its kept counts (RV-2) on SQLite too.
        queue = services.list_work_queue(uow, principal=officer, page_size=20, page_token="", now=now)
        assert queue.state_counts == {} and queue.cases == []
        reviewer = Principal(subject="officers/2", province="370000", roles=frozenset({"officer.review"}))
        queue = services.list_work_queue(uow, principal=reviewer, page_size=20, page_token="", now=now)
        assert [c.id for c in queue.cases] == [case.id] and queue.state_counts == {"UNDER_REVIEW": 1}
        with engine.connect() as conn:
            assert queue_counts.kept_counts(conn) == queue_counts.fresh_counts(conn) == {
                ("130000", "REVIEW", "UNDER_REVIEW"): 1, ("130000", "ACCEPT_REVIEW", "UNDER_REVIEW"): 1,
                ("370000", "REVIEW", "UNDER_REVIEW"): 1, ("370000", "ACCEPT_REVIEW", "UNDER_REVIEW"): 1}
    finally:
        engine.dispose()
