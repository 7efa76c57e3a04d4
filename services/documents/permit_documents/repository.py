"""Persistence of documents and their access grants."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from permit_documents.models import Document, DocumentGrant
from permitkit.db import RepositoryBase, precompiled, upsert_insert

# The reads of every download and of every reference checked on a submit, built once:
# building a statement and its cache key costs about as much as running it.
_GET = select(Document).where(Document.id == bindparam("ident"))
_ONE_GRANT = select(DocumentGrant).where(DocumentGrant.document_id == bindparam("ident"),
                                         DocumentGrant.province == bindparam("province")).limit(1)
# The owners of the documents a submission references (every grant on a case opened).
_OWNERS = select(Document.id, Document.owner).where(Document.id.in_(bindparam("ids", expanding=True)))


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
        doc = self.session.scalars(_GET, {"ident": ident}).first()
        if doc is not None and province:
            one = self.session.scalars(_ONE_GRANT, {"ident": ident, "province": province}).all()
            set_committed_value(doc, "grants", list(one))
        return doc

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        """The owner of each of these documents (those that exist)."""
        wanted = list(ids)
        if not wanted:
            return {}
        return {i: o for i, o in self.session.execute(_OWNERS, {"ids": wanted})}

    def add_grants(self, application: str, pairs: Iterable[tuple[str, str]], now: dt.datetime) -> int:
        """Grant (document id, province) pairs for ``application`` in one round trip; a grant
        already held (or added meanwhile by a concurrent delivery) is left as it is.
        Returns how many were new."""
        rows = [{"document_id": d, "application": application, "province": p, "create_time": now}
                for d, p in pairs]
        if not rows:
            return 0
        conn = self.session.connection()
        return int(conn.execute(_grant_insert(conn.dialect.name), rows).rowcount)


@functools.cache
def _grant_insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING of a grant, compiled once per dialect and run once
    with every row (the row count tells how many were new)."""
    return precompiled(upsert_insert(dialect)(DocumentGrant).on_conflict_do_nothing(
        index_elements=["document_id", "application", "province"]), dialect,
        ["document_id", "application", "province", "create_time"])
