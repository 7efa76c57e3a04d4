"""A new certificate version in the permit's own transaction (CT-1, CT-2); rendered later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlalchemy.orm import Session

from permit_approval.certificate import content as content_mod
from permit_approval.certificate.keys import KeyRing
from permit_approval.certificate.models import PermitCertificate
from permit_approval.certificate.qr import verify_url
from permit_approval.certificate.signing import Payload, route_digest, sign
from permit_approval.models import local_date, new_id

log = structlog.get_logger()


def certificates_of(permit: Any) -> list[PermitCertificate]:
    """The permit's certificate versions, oldest first."""
    return sorted(getattr(permit, "certificates", None) or [], key=lambda c: c.version)


def current_of(permit: Any) -> PermitCertificate | None:
    versions = certificates_of(permit)
    return versions[-1] if versions else None


class CertificateIssuer:
    """Records a certificate version whenever the permit is issued or changed.

    The version, its content snapshot and its signed QR payload are written in the
    same transaction as the permit; rendering and storing follow after the commit
    (:class:`~permit_approval.certificate.worker.CertificateWorker`), so issuing
    never fails because object storage blinked.
    """

    def __init__(self, keys: KeyRing, verify_base_url: str) -> None:
        self.keys = keys
        self.verify_base_url = verify_base_url
        self._wake: list[Any] = []

    def on_recorded(self, callback: Any) -> None:
        self._wake.append(callback)

    def wake(self) -> None:
        for cb in self._wake:
            cb()

    def url_for(self, code: str) -> str:
        return verify_url(self.verify_base_url, code)

    def record(self, session: Session, *, permit: Any, case: Any, reason: str,
               now: dt.datetime) -> PermitCertificate:
        """Supersede the permit's earlier versions and add the next one (CT-1)."""
        earlier = certificates_of(permit)
        version = (earlier[-1].version + 1) if earlier else 1
        for c in earlier:
            c.superseded = True
        snapshot = content_mod.build(permit=permit, case=case, version=version, reason=reason,
                                     today=local_date(now))
        key_id, private = self.keys.signing_key(session, now)
        code = sign(Payload(key_id=key_id, permit_number=permit.number, version=version,
                            plates=list(permit.plate_numbers), start_date=permit.start_date,
                            end_date=permit.end_date, multi_trip=bool(permit.multi_trip),
                            route_digest=route_digest(permit.route or [])), private)
        cert = PermitCertificate(
            id=new_id(), version=version, reason=reason, content=snapshot.to_json(),
            verification_code=code, key_id=key_id, superseded=False, pdf_document="",
            png_document="", create_time=now, store_time=None, attempts=0,
            next_attempt_time=now, lease_expire_time=None, last_error="")
        permit.certificates.append(cert)
        log.info("certificate_recorded", permit=permit.name, version=version, reason=reason)
        return cert
