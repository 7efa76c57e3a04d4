"""Persistence of documents and their access grants."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from permit_documents.models import Document
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

    def list_by_ids(self, ids: Iterable[str]) -> list[Document]:
        wanted = list(ids)
        if not wanted:
            return []
        return list(self.session.scalars(select(Document).where(Document.id.in_(wanted))))
