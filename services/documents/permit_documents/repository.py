"""Persistence of documents and their access grants."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from permit_documents.models import Document, DocumentGrant
from permitkit.db import RepositoryBase


class DocumentRepository(RepositoryBase[Document]):
    """Documents by id, by content, and which blob keys are still referenced."""

    model = Document

    def find_same_content(self, *, owner: str, kind: str, sha256: str, filename: str) -> Document | None:
        stmt = select(Document).where(Document.owner == owner, Document.kind == kind,
                                      Document.sha256 == sha256, Document.filename == filename)
        return self.session.scalars(stmt).first()

    def referenced_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` that some document row points at."""
        wanted = list(keys)
        found: set[str] = set()
        for i in range(0, len(wanted), 500):
            batch = wanted[i:i + 500]
            found.update(self.session.scalars(
                select(Document.blob_key).where(Document.blob_key.in_(batch)).distinct()
            ))
        return found

    def get_readable(self, ident: str, *, province: str | None) -> Document | None:
        """The document, its grants holding at most one of ``province``: all that
        ``readable_by`` looks at for an officer of that province (none for anyone else)."""
        doc = self.session.get(Document, ident)
        if doc is not None and province:
            one = self.session.scalars(select(DocumentGrant).where(
                DocumentGrant.document_id == ident, DocumentGrant.province == province).limit(1)).all()
            set_committed_value(doc, "grants", list(one))
        return doc

    def list_by_ids(self, ids: Iterable[str], *, grants_of: str | None = None) -> list[Document]:
        """The documents with these ids; with ``grants_of``, each with only that
        application's grants loaded (what ``Document.grant`` compares with)."""
        wanted = list(ids)
        if not wanted:
            return []
        stmt = select(Document).where(Document.id.in_(wanted))
        if grants_of is not None:
            stmt = stmt.options(selectinload(Document.grants.and_(DocumentGrant.application == grants_of)))
        return list(self.session.scalars(stmt))
