"""Use cases of the documents service: upload, read, link, delete, grant access, sweep."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from permit_documents import errors, formats, sanitize
from permit_documents.links import LinkSigner
from permit_documents.models import (
    DOCUMENT_NAME,
    PARTY_NAME,
    PROVINCE_CODE,
    SERVICE_KINDS,
    Document,
    DocumentKind,
    blob_key_for,
    document_id_from_name,
    new_document_id,
)
from permit_documents.storage import BlobMissing, BlobStore
from permit_documents.unit_of_work import DocumentsUnitOfWork
from permitkit import access
from permitkit.context import Principal
from permitkit.db import is_unique_violation, utcnow
from permitkit.errors import InvalidArgument

log = structlog.get_logger(__name__)

# What a grant is for: an application under review, or a business licence (ID-5).
REVIEWED_NAME = re.compile(r"^(applications|licences)/[A-Za-z0-9_-]{1,80}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class DownloadLink:
    """A URL and when it stops working."""

    url: str
    expire_time: dt.datetime


def _require_owner(principal: Principal | None) -> str:
    if principal is None or not principal.party or not PARTY_NAME.match(principal.party):
        raise errors.NotApplicant()
    return principal.party


def clean_filename(filename: str, fmt: formats.Format) -> str:
    """The last path component, without control characters, at most 255 characters."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = _CONTROL.sub("", base).strip()[:255]
    return base or f"document.{sorted(formats.EXTENSIONS[fmt])[0]}"


def check_upload_header(*, principal: Principal | None, kind: DocumentKind | None) -> None:
    """Refuse an upload from its header alone (no party, no kind), before any byte is read."""
    _require_owner(principal)
    if kind is None:
        raise errors.DocumentKindMissing(field="header.kind")
    _check_uploadable(kind)


def _check_uploadable(kind: DocumentKind) -> None:
    """A certificate is produced by the approval service and stored through the internal
    ``StoreDocument`` for the holder; nobody uploads one (CT-1)."""
    if kind in SERVICE_KINDS:
        raise errors.KindReserved(field="header.kind", metadata={"kind": kind.name})


def check_store_header(*, principal: Principal | None, kind: DocumentKind | None, owner: str) -> None:
    """Refuse a service's store from its header alone: a peer service, a kind services
    produce, a party as owner (CT-1)."""
    access.require_service(principal)
    if kind is None:
        raise errors.DocumentKindMissing(field="header.kind")
    if kind not in SERVICE_KINDS:
        raise errors.KindNotStored(field="header.kind", metadata={"kind": kind.name})
    if not PARTY_NAME.match(owner or ""):
        raise errors.OwnerInvalid(field="header.owner", metadata={"owner": owner})


def store_document(
    uow: DocumentsUnitOfWork,
    store: BlobStore,
    *,
    principal: Principal | None,
    kind: DocumentKind | None,
    owner: str,
    filename: str,
    declared_content_type: str,
    content: bytes,
) -> Document:
    """A file a peer service produced (the permit certificate) stored as ``owner``'s document,
    checked like an upload; the same content again returns the document already stored."""
    check_store_header(principal=principal, kind=kind, owner=owner)
    assert kind is not None
    return _store_checked(uow, store, owner=owner, kind=kind, filename=filename,
                          declared_content_type=declared_content_type, content=content)


def upload_document(
    uow: DocumentsUnitOfWork,
    store: BlobStore,
    *,
    principal: Principal | None,
    kind: DocumentKind | None,
    filename: str,
    declared_content_type: str,
    content: bytes,
) -> Document:
    """Check an uploaded file by its content, store it once, and record its metadata.

    The blob is written before the metadata row commits (AP-4/AP-8/AP-9): a
    failed write leaves no row, a failed commit leaves a blob that the sweeper
    removes. The same owner uploading the same content for the same kind under
    the same file name (a retry) gets the document already stored; under another
    name it gets a document of its own with that name, sharing the stored blob.
    """
    owner = _require_owner(principal)
    if kind is None:
        raise errors.DocumentKindMissing(field="header.kind")
    _check_uploadable(kind)
    return _store_checked(uow, store, owner=owner, kind=kind, filename=filename,
                          declared_content_type=declared_content_type, content=content)


def _store_checked(uow: DocumentsUnitOfWork, store: BlobStore, *, owner: str, kind: DocumentKind,
                   filename: str, declared_content_type: str, content: bytes) -> Document:
    """Check the content, store it once per owner, kind and content, record the metadata."""
    if not content:
        raise errors.FileEmpty(field="chunk")
    if len(content) > formats.MAX_UPLOAD_BYTES:
        raise errors.FileTooLarge(field="chunk", metadata={"limit_bytes": str(formats.MAX_UPLOAD_BYTES)})
    detected = formats.detect(content)
    formats.check_label(detected.format, filename=filename, declared_content_type=declared_content_type)
    kind.check_format(detected.format)
    stored = sanitize.strip_metadata(content, detected.format)
    sha256 = hashlib.sha256(stored).hexdigest()
    key = blob_key_for(owner, sha256)
    name = clean_filename(filename, detected.format)

    # Two short transactions around the blob write: no database transaction
    # (nor SQLite's write lock) is held while object storage is slow or down.
    with uow:
        existing = uow.documents.find_same_content(owner=owner, kind=kind.name, sha256=sha256, filename=name)
        if existing is not None:
            log.info("document_deduplicated", document=existing.name, kind=kind.name)
            return existing
    store.put(key, stored, detected.format.content_type)
    with uow:
        doc = Document(
            id=new_document_id(), create_time=utcnow(), owner=owner, kind=kind.name,
            filename=name, content_type=detected.format.content_type, format=detected.format.name,
            size_bytes=len(stored), sha256=sha256, blob_key=key,
        )
        uow.documents.add(doc)
        try:
            uow.commit()
        except IntegrityError as e:
            if not is_unique_violation(e):
                raise
            uow.rollback()
            # A concurrent identical upload won the race: return its document.
            existing = uow.documents.find_same_content(owner=owner, kind=kind.name, sha256=sha256, filename=name)
            if existing is None:
                raise
            return existing
    log.info("document_uploaded", document=doc.name, kind=kind.name, format=detected.format.name,
             size_bytes=len(stored))
    return doc


def _readable(uow: DocumentsUnitOfWork, principal: Principal | None, name: str) -> Document:
    doc_id = document_id_from_name(name)
    doc = uow.documents.get_readable(doc_id, province=principal.province if principal else None)
    # Not revealing existence: someone else's document is "not found" too.
    if doc is None or not doc.readable_by(principal):
        raise errors.DocumentNotFound(field="name", metadata={"name": name})
    return doc


def get_document(uow: DocumentsUnitOfWork, *, principal: Principal | None, name: str) -> Document:
    """The document's metadata, for its owner, an officer granted access, or a service."""
    with uow:
        return _readable(uow, principal, name)


def get_download_url(
    uow: DocumentsUnitOfWork,
    store: BlobStore,
    signer: LinkSigner,
    *,
    principal: Principal | None,
    name: str,
    ttl: dt.timedelta,
    now: dt.datetime | None = None,
) -> DownloadLink:
    """A short-lived link: presigned by object storage, or a signed gateway path for the folder store."""
    now = now or utcnow()
    with uow:
        doc = _readable(uow, principal, name)
    expire_time = now + ttl
    url = store.presign_get(doc.blob_key, expires=ttl, filename=doc.filename,
                            content_type=doc.content_type)
    if url is None:
        url = f"/v1/{doc.name}:download?token={signer.sign(doc.id, expire_time)}"
    return DownloadLink(url=url, expire_time=expire_time)


def download_document(
    uow: DocumentsUnitOfWork,
    store: BlobStore,
    signer: LinkSigner,
    *,
    principal: Principal | None,
    name: str,
    token: str = "",
    now: dt.datetime | None = None,
) -> tuple[Document, bytes]:
    """The document and its content, for a reader or the holder of a valid download token."""
    now = now or utcnow()
    with uow:
        if token:
            doc_id = document_id_from_name(name)
            signer.verify(doc_id, token, now=now)
            found = uow.documents.get(doc_id)
            if found is None:
                raise errors.DocumentNotFound(field="name", metadata={"name": name})
            doc = found
        else:
            doc = _readable(uow, principal, name)
    try:
        content = store.get(doc.blob_key)
    except BlobMissing:
        log.error("document_blob_missing", document=doc.name)
        raise errors.StorageUnavailable("文件暂时无法读取，请稍后重试。") from None
    return doc, content


def delete_document(uow: DocumentsUnitOfWork, *, principal: Principal | None, name: str) -> None:
    """Delete the caller's own document unless a review uses it; the sweeper removes the blob."""
    owner = _require_owner(principal)
    with uow:
        doc = uow.documents.get(document_id_from_name(name))
        if doc is None or doc.owner != owner:
            raise errors.DocumentNotFound(field="name", metadata={"name": name})
        doc.ensure_deletable()
        uow.documents.delete(doc)
        uow.commit()
    log.info("document_deleted", document=name)


def grant_access(
    uow: DocumentsUnitOfWork,
    *,
    principal: Principal | None,
    application: str,
    provinces: Sequence[str],
    documents: Sequence[str],
    owner: str = "",
    event: tuple[str, str] | None = None,
) -> list[str]:
    """Let officers of ``provinces`` read ``documents`` because they review ``application``
    (an application, or a business licence for ID-5).

    Internal (`service` role). Idempotent: repeating a grant changes nothing. With an
    ``owner``, every document must be that party's upload: a grant never opens another
    party's file to the reviewing provinces. With ``event`` (event id, topic) the grant is
    recorded in the inbox in the same transaction: a redelivery of the event is a no-op.
    """
    if principal is None or not principal.is_service:
        raise errors.ServiceRoleRequired()
    if not REVIEWED_NAME.match(application or ""):
        raise InvalidArgument("审核对象名称无效（应为 applications/… 或 licences/…）。",
                              reason="APPLICATION_REQUIRED", field="application")
    for i, p in enumerate(provinces):
        if not PROVINCE_CODE.match(p):
            raise InvalidArgument("省份代码无效（应为 GB/T 2260 省级代码，如 130000）。",
                                  reason="PROVINCE_INVALID", field=f"provinces[{i}]")
    ids: list[str] = []
    for i, n in enumerate(documents):
        m = DOCUMENT_NAME.match(n)
        if not m:
            raise InvalidArgument("材料名称无效。", reason="DOCUMENT_NAME_INVALID", field=f"documents[{i}]")
        ids.append(m.group(1))
    unique_ids = list(dict.fromkeys(ids))
    unique_provinces = list(dict.fromkeys(provinces))
    with uow:
        if event is not None and not uow.first_delivery(*event):
            return []
        owners = uow.documents.owners(unique_ids)
        missing = [f"documents/{i}" for i in unique_ids if i not in owners]
        if missing:
            raise errors.DocumentNotFound(field="documents", metadata={"names": ",".join(missing)})
        foreign = [f"documents/{i}" for i in unique_ids if owner and owners[i] != owner]
        if foreign:
            raise errors.DocumentNotOwned(field="documents", metadata={"names": ",".join(foreign)})
        added = uow.documents.add_grants(application, [(d, p) for d in unique_ids for p in unique_provinces],
                                         utcnow())
        uow.commit()
    log.info("document_access_granted", application=application,
             provinces=",".join(unique_provinces), documents=len(unique_ids), added=added)
    return [f"documents/{i}" for i in unique_ids]


def sweep_unreferenced_blobs(
    uow: DocumentsUnitOfWork,
    store: BlobStore,
    *,
    grace: dt.timedelta,
    now: dt.datetime | None = None,
) -> list[str]:
    """Remove blobs that no document row references and that are older than ``grace``.

    The grace period protects uploads in flight, whose blob is written before
    their row commits.
    """
    now = now or utcnow()
    cutoff = now - grace
    candidates = [b.key for b in store.list() if b.last_modified <= cutoff]
    if not candidates:
        return []
    with uow:
        referenced = uow.documents.referenced_keys(candidates)
    removed = [k for k in candidates if k not in referenced]
    for key in removed:
        store.delete(key)
    if removed:
        log.info("blobs_swept", count=len(removed))
    return removed
