"""Unit of work of the documents service: one session, the document repository."""

from __future__ import annotations

from sqlalchemy.orm import Session

from permit_documents.repository import DocumentRepository
from permitkit.db import SqlAlchemyUnitOfWork


class DocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    """``with uow: ... uow.commit()``; rolled back on exit otherwise."""

    documents: DocumentRepository

    def _attach(self, session: Session) -> None:
        self.documents = DocumentRepository(session)

    def flush(self) -> None:
        self.session.flush()

    def __exit__(self, *exc: object) -> None:
        # Entities a use case returns outlive its session: detach them with
        # their loaded state rather than let the closing rollback expire them.
        self.session.expunge_all()
        super().__exit__(*exc)
