"""Unit of work of the documents service: one session, the document repository."""

from __future__ import annotations

from sqlalchemy.orm import Session

from permit_documents.models import INBOX
from permit_documents.repository import DocumentRepository
from permitkit.db import SqlAlchemyUnitOfWork
from permitkit.outbox import first_delivery


class DocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    """``with uow: ... uow.commit()``; rolled back on exit otherwise."""

    documents: DocumentRepository

    def _attach(self, session: Session) -> None:
        self.documents = DocumentRepository(session)

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """Inbox: False when ``event_id`` was already applied."""
        return first_delivery(self.session, INBOX, event_id, topic)

    def flush(self) -> None:
        self.session.flush()

    def __exit__(self, *exc: object) -> None:
        # Entities a use case returns outlive its session: detach them with
        # their loaded state rather than let the closing rollback expire them.
        self.session.expunge_all()
        super().__exit__(*exc)
