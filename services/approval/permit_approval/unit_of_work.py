"""Unit of work of the approval service: one RPC, one short transaction, events in the same commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Self

import structlog
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from permit_approval import errors
from permit_approval.models import INBOX, OUTBOX, Case, OutgoingEvent
from permit_approval.repository import CalendarRepository, CaseRepository, PermitRepository
from permit_approval.workdays import SOURCE_ADMINISTRATOR, WorkingCalendar, YearData
from permitkit import outbox
from permitkit.db import SqlAlchemyUnitOfWork

# The outbox topic of every event for ApplicationService.RecordReviewEvent.
REVIEW_EVENT_TOPIC = "application.record_review_event"
# The outbox topic of ApplicationService.ReleaseVehicleTime: a refused vehicle change or
# extension gives back the vehicles' time it held (AP-6).
RELEASE_VEHICLE_TIME_TOPIC = "application.release_vehicle_time"
# The outbox topic of DocumentService.GrantAccess: officers of the route provinces may
# read the documents the case references.
DOCUMENT_GRANT_TOPIC = "documents.grant_access"

log = structlog.get_logger()


class ApprovalUnitOfWork(SqlAlchemyUnitOfWork):
    """Repositories over one session; ``record`` queues events in the same transaction."""

    cases: CaseRepository
    permits: PermitRepository
    calendars: CalendarRepository

    def __init__(self, session_factory: Callable[[], Session],
                 on_commit: Callable[[], None] | None = None) -> None:
        super().__init__(session_factory)
        self._on_commit = on_commit
        self._queued = 0

    def __enter__(self) -> Self:
        self._queued = 0
        return super().__enter__()

    def _attach(self, session: Session) -> None:
        self.cases = CaseRepository(session)
        self.permits = PermitRepository(session)
        self.calendars = CalendarRepository(session)

    def record(self, events: list[OutgoingEvent]) -> None:
        """Queue ``events`` for the application service in this transaction, then forget them."""
        for ev in events:
            event_id = outbox.record_event(self.session, OUTBOX, REVIEW_EVENT_TOPIC,
                                           {"kind": ev.kind.value, **ev.fields})
            log.info("review_event_queued", kind=ev.kind.value, event_id=event_id,
                     application=ev.fields.get("application"), province=ev.fields.get("province"))
            self._queued += 1
        events.clear()

    def grant_documents(self, case: Case) -> None:
        """Queue, in this transaction, access for the origin and every route province to
        the documents ``case`` references (no event when it references none)."""
        documents = list(dict.fromkeys(d for d in case.documents or [] if d))
        if not documents:
            return
        provinces = list(dict.fromkeys([case.origin_province, *case.route_provinces]))
        event_id = outbox.record_event(self.session, OUTBOX, DOCUMENT_GRANT_TOPIC, {
            "application": case.application, "provinces": provinces, "documents": documents,
            "owner": case.applicant})
        log.info("document_grant_queued", event_id=event_id, application=case.application,
                 provinces=provinces, documents=len(documents))
        self._queued += 1

    def release_vehicle_time(self, key: str) -> None:
        """Queue, in this transaction, the release of what the refused request ``key`` held."""
        outbox.record_event(self.session, OUTBOX, RELEASE_VEHICLE_TIME_TOPIC, {"key": key})
        self._queued += 1

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """False when ``event_id`` was already processed (an inbox row exists)."""
        return outbox.first_delivery(self.session, INBOX, event_id, topic)

    def calendar(self) -> WorkingCalendar:
        """Library data with administrator years on top (RV-4)."""
        overrides = [
            YearData(row.year, frozenset(dt.date.fromisoformat(d) for d in row.holidays),
                     frozenset(dt.date.fromisoformat(d) for d in row.workdays),
                     SOURCE_ADMINISTRATOR)
            for row in self.calendars.all()
        ]
        return WorkingCalendar.from_library(overrides)

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as e:
            raise errors.ConcurrentUpdate() from e

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as e:
            self.session.rollback()
            raise errors.ConcurrentUpdate() from e
        if self._queued and self._on_commit is not None:
            self._on_commit()
        self._queued = 0


