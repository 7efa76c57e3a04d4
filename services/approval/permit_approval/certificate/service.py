"""Use cases of certificates: download (CT-1), published keys and verification (CT-2, CT-3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from permit_approval import access, errors
from permit_approval.certificate import signing
from permit_approval.certificate.content import Content
from permit_approval.certificate.issuing import certificates_of, current_of
from permit_approval.certificate.keys import KeyRing
from permit_approval.certificate.models import CertificateKey
from permit_approval.certificate.peers import CertificateStore
from permit_approval.certificate.worker import filename
from permit_approval.models import Permit, PermitState, local_date
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.verification import PermitSigner
from permitkit.context import Principal
from permitkit.errors import InvalidArgument, NotFound, Unavailable

FORMATS = {"pdf": "application/pdf", "png": "image/png"}


class CertificateNotFound(NotFound):
    reason = "CERTIFICATE_NOT_FOUND"
    message = "未找到该版本的通行证。"


class CertificatePending(Unavailable):
    reason = "CERTIFICATE_PENDING"
    message = "通行证正在生成，请稍后再试。"


class CertificateFormatInvalid(InvalidArgument):
    reason = "CERTIFICATE_FORMAT_INVALID"
    message = "通行证格式只能是 pdf 或 png。"


@dataclass(frozen=True)
class CertificateDownload:
    content_type: str
    filename: str
    version: int
    superseded: bool
    data: bytes


def download_certificate(uow: ApprovalUnitOfWork, store: CertificateStore, *,
                         principal: Principal | None, permit_name: str, fmt: str,
                         version: int) -> CertificateDownload:
    """The certificate file of a permit for its holder or officers of its route (CT-1);
    another applicant is told the permit does not exist."""
    access.authenticated(principal)
    parts = (permit_name or "").split("/")
    if len(parts) != 2 or parts[0] != "permits" or not parts[1]:
        raise errors.NameInvalid(field="permit", metadata={"expected": "permits/{id}"})
    fmt = (fmt or "pdf").lower()
    if fmt not in FORMATS:
        raise CertificateFormatInvalid(field="format")
    with uow:
        permit = uow.permits.get(parts[1])
        if permit is None:
            raise errors.PermitNotFound()
        access.check_can_view_permit(principal, permit)
        versions = certificates_of(permit)
        cert = (next((c for c in versions if c.version == version), None) if version > 0
                else (versions[-1] if versions else None))
        if cert is None:
            if version > 0:
                raise CertificateNotFound(field="version")
            raise CertificatePending()
        document = cert.pdf_document if fmt == "pdf" else cert.png_document
        number, superseded, v = permit.number, cert.superseded, cert.version
        uow.commit()
    if not document:
        raise CertificatePending()
    data = store.get(document)
    return CertificateDownload(FORMATS[fmt], filename(number, v, fmt), v, superseded, data)


def list_certificate_keys(uow: ApprovalUnitOfWork, keys: KeyRing, *,
                          now: dt.datetime) -> list[CertificateKey]:
    """The published certificate keys, current and retired ones still in circulation (CT-2)."""
    with uow:
        published = keys.published(uow.session, now)
        if not published:
            # The first listing makes the first key, so a key is published before any
            # certificate needs it.
            keys.signing_key(uow.session, now)
            published = keys.published(uow.session, now)
        uow.commit()
        return published


@dataclass(frozen=True)
class CertificateCheck:
    """The public answer about a certificate: its state and what a roadside check needs."""

    result: str  # VALID, ABOLISHED, EXPIRED, NOT_YET_VALID, SUPERSEDED, UNKNOWN
    permit: Permit | None = None
    content: Content | None = None
    certificate_version: int = 0
    current_version: int = 0


def verify_certificate(uow: ApprovalUnitOfWork, *, keys: KeyRing, signer: PermitSigner,
                       code: str, now: dt.datetime) -> CertificateCheck:
    """A scanned certificate code (``PC1`` signed payload, or a bare permit code) against
    the server's current state (CT-2); no sign-in."""
    if not (code or "").strip():
        raise errors.required("verification_code", "请扫描或输入许可证验证码。")
    scanned_version = 0
    with uow:
        if signing.extract(code) is not None:
            payload = signing.verify(code, keys.public_keys(uow.session))
            permit = None if payload is None else uow.session.scalars(
                select(Permit).where(Permit.number == payload.permit_number)).first()
            if payload is None or permit is None or not any(
                    c.version == payload.version for c in certificates_of(permit)):
                uow.commit()
                return CertificateCheck("UNKNOWN")
            scanned_version = payload.version
        else:
            permit_id = signer.verify(code)
            permit = uow.permits.get(permit_id) if permit_id else None
            if permit is None:
                uow.commit()
                return CertificateCheck("UNKNOWN")
        current = current_of(permit)
        uow.commit()
    current_version = current.version if current is not None else 0
    content = Content.from_json(current.content) if current is not None else None
    return CertificateCheck(_result(permit, scanned_version, current_version, local_date(now)),
                            permit, content, scanned_version, current_version)


def _result(permit: Permit, scanned: int, current: int, today: dt.date) -> str:
    state = permit.effective_state(today)
    if state == PermitState.ABOLISHED:
        return "ABOLISHED"
    if scanned and scanned < current:
        return "SUPERSEDED"
    if state == PermitState.EXPIRED:
        return "EXPIRED"
    if today < permit.start_date:
        return "NOT_YET_VALID"
    return "VALID"
