"""Fakes of the documents service's own ports, for unit tests of one layer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from permit_documents.errors import StorageUnavailable
from permit_documents.models import Document, DocumentGrant
from permit_documents.storage import BlobInfo, BlobMissing


class FakeBlobStore:
    """In-memory blobs; ``down = True`` makes every call fail like an outage."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.blobs: dict[str, tuple[bytes, dt.datetime]] = {}
        self.down = False
        self.puts = 0
        self.now = now or dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailable()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._check()
        self.puts += 1
        self.blobs[key] = (data, self.now)

    def get(self, key: str) -> bytes:
        self._check()
        if key not in self.blobs:
            raise BlobMissing(key)
        return self.blobs[key][0]

    def delete(self, key: str) -> None:
        self._check()
        self.blobs.pop(key, None)

    def list(self) -> Iterator[BlobInfo]:
        self._check()
        for key, (data, at) in list(self.blobs.items()):
            yield BlobInfo(key, len(data), at)

    def presign_get(self, key: str, *, expires: dt.timedelta, filename: str,
                    content_type: str) -> str | None:
        return None


class FakeDocumentRepository:
    def __init__(self, rows: dict[str, Document]) -> None:
        self.rows = rows

    def add(self, obj: Document) -> Document:
        self.rows[obj.id] = obj
        return obj

    def get(self, ident: str, *, for_update: bool = False) -> Document | None:
        return self.rows.get(ident)

    def delete(self, obj: Document) -> None:
        self.rows.pop(obj.id, None)

    def find_same_content(self, *, owner: str, kind: str, sha256: str, filename: str) -> Document | None:
        return next((d for d in self.rows.values()
                     if (d.owner, d.kind, d.sha256, d.filename) == (owner, kind, sha256, filename)), None)

    def referenced_keys(self, keys: Iterable[str]) -> set[str]:
        used = {d.blob_key for d in self.rows.values()}
        return {k for k in keys if k in used}

    def get_readable(self, ident: str, *, province: str | None) -> Document | None:
        return self.rows.get(ident)

    def owners(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self.rows[i].owner for i in ids if i in self.rows}

    def add_grants(self, application: str, pairs: Iterable[tuple[str, str]], now: dt.datetime) -> int:
        added = 0
        for d, p in pairs:
            doc = self.rows[d]
            if not any(g.application == application and g.province == p for g in doc.grants):
                doc.grants.append(DocumentGrant(application=application, province=p, create_time=now))
                added += 1
        return added


class FakeUnitOfWork:
    """Commits copy the working set into ``committed``; leaving without commit discards it."""

    def __init__(self) -> None:
        self.committed: dict[str, Document] = {}
        self.commits = 0

    def __call__(self) -> FakeUnitOfWork:
        return self

    def __enter__(self) -> FakeUnitOfWork:
        self._working = dict(self.committed)
        self.documents = FakeDocumentRepository(self._working)
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        self.committed = dict(self._working)
        self.commits += 1

    def rollback(self) -> None:
        self._working = dict(self.committed)
        self.documents = FakeDocumentRepository(self._working)
