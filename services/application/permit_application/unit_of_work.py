"""Unit of work: one use case, one short transaction, explicit commit; outbox events
are written in the same transaction as the state change."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message
from sqlalchemy.orm import Session

from permit_application.models import INBOX, OUTBOX
from permit_application.repository import ApplicationRepository, FleetRepository
from permitkit.db import SqlAlchemyUnitOfWork as _Base
from permitkit.outbox import first_delivery, record_event


class SqlAlchemyUnitOfWork(_Base):
    """Repositories on one session, the outbox and the inbox of this service."""

    applications: ApplicationRepository
    fleet: FleetRepository

    def __init__(self, session_factory: Callable[[], Session], *,
                 on_commit: Callable[[], None] | None = None) -> None:
        super().__init__(session_factory)
        self._on_commit = on_commit
        self._events = 0

    def _attach(self, session: Session) -> None:
        self.applications = ApplicationRepository(session)
        self.fleet = FleetRepository(session)
        self._events = 0

    def __exit__(self, *exc: object) -> None:
        # Detach what the use case loaded before the closing rollback, so the
        # models it returns stay readable (a rollback would expire them).
        self.session.expunge_all()
        super().__exit__(*exc)

    def record_event(self, event: Message) -> str:
        """Queue an integration event (a message of events.proto) in this transaction; returns its id."""
        self._events += 1
        return record_event(self.session, OUTBOX, event)

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """Inbox: False when ``event_id`` was already processed."""
        return first_delivery(self.session, INBOX, event_id, topic)

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        super().commit()
        if self._events and self._on_commit:
            self._on_commit()
        self._events = 0
