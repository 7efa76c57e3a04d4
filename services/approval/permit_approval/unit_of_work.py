"""Unit of work of the approval service: one RPC, one short transaction, events in the same commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Self

import structlog
from google.protobuf.message import Message
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from permit_approval import errors, published
from permit_approval.models import INBOX, OUTBOX, Case, OutgoingEvent
from permit_approval.queue_counts import QueueCountKeeper
from permit_approval.repository import (
    CalendarRepository,
    CaseRepository,
    PermitRepository,
    SubmissionRepository,
)
from permit_approval.workdays import SOURCE_ADMINISTRATOR, WorkingCalendar, YearData
from permitkit import outbox
from permitkit.db import SqlAlchemyUnitOfWork

log = structlog.get_logger()


class ApprovalUnitOfWork(SqlAlchemyUnitOfWork):
    """Repositories over one session; ``record`` queues events in the same transaction."""

    cases: CaseRepository
    permits: PermitRepository
    calendars: CalendarRepository
    submissions: SubmissionRepository

    def __init__(self, session_factory: Callable[[], Session],
                 on_commit: Callable[[], None] | None = None) -> None:
        super().__init__(session_factory)
        self._on_commit = on_commit
        self._queued = 0
        self._calendar: WorkingCalendar | None = None

    def __enter__(self) -> Self:
        self._queued = 0
        self._calendar = None
        return super().__enter__()

    def _attach(self, session: Session) -> None:
        self.cases = CaseRepository(session)
        self.permits = PermitRepository(session)
        self.calendars = CalendarRepository(session)
        self.submissions = SubmissionRepository(session)
        # The work-queue counts change with the cases, in the same transaction (RV-2).
        QueueCountKeeper(session)

    def record(self, events: list[OutgoingEvent], case: Case) -> None:
        """Queue, in this transaction, the event messages of what ``case`` (or its permit)
        recorded, then forget the recorded facts."""
        for fact in events:
            self.publish(published.messages(fact, case))
        events.clear()

    def publish(self, messages: list[Message]) -> None:
        """Queue integration event messages in this transaction."""
        for message in messages:
            published.with_remind_dates(message, self.calendar)
            event_id = outbox.record_event(self.session, OUTBOX, message)
            log.info("event_queued", topic=outbox.topic_of(message), event_id=event_id,
                     application=message.application.name, province=message.province)
            self._queued += 1

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """False when ``event_id`` was already processed (an inbox row exists)."""
        return outbox.first_delivery(self.session, INBOX, event_id, topic)

    def calendar(self) -> WorkingCalendar:
        """Library data with administrator years on top (RV-4), read once per transaction
        (the one use case that changes it reads it only after the change)."""
        if self._calendar is not None:
            return self._calendar
        overrides = [
            YearData(row.year, frozenset(dt.date.fromisoformat(d) for d in row.holidays),
                     frozenset(dt.date.fromisoformat(d) for d in row.workdays),
                     SOURCE_ADMINISTRATOR)
            for row in self.calendars.all()
        ]
        self._calendar = WorkingCalendar.from_library(overrides)
        return self._calendar

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


