"""The certificate RPCs' transport: protobuf in, certificate use case, protobuf out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from permit.approval.v1 import approval_service_pb2 as svc
from permit_approval.certificate import convert, service
from permit_approval.certificate.issuing import CertificateIssuer
from permit_approval.certificate.keys import KeyRing
from permit_approval.certificate.peers import CertificateStore
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.verification import PermitSigner
from permitkit.context import Principal

CHUNK = 64 * 1024


@dataclass
class CertificateDesk:
    """What the servicer needs for certificates: the issuer, the key ring and the file store."""

    issuer: CertificateIssuer
    keys: KeyRing
    store: CertificateStore

    def download(self, uow: ApprovalUnitOfWork, principal: Principal | None,
                 request: svc.DownloadCertificateRequest) -> Iterator[svc.DownloadCertificateResponse]:
        # Checked before the first message, so a refusal is a status, not a cut stream.
        got = service.download_certificate(uow, self.store, principal=principal,
                                           permit_name=request.permit, fmt=request.format,
                                           version=request.version)

        def stream() -> Iterator[svc.DownloadCertificateResponse]:
            yield svc.DownloadCertificateResponse(file=svc.CertificateFile(
                content_type=got.content_type, filename=got.filename, version=got.version,
                superseded=got.superseded))
            for i in range(0, len(got.data), CHUNK):
                yield svc.DownloadCertificateResponse(chunk=got.data[i:i + CHUNK])
        return stream()

    def list_keys(self, uow: ApprovalUnitOfWork, now: dt.datetime) -> svc.ListCertificateKeysResponse:
        keys = service.list_certificate_keys(uow, self.keys, now=now)
        return svc.ListCertificateKeysResponse(keys=[convert.key_pb(k) for k in keys])

    def verify(self, uow: ApprovalUnitOfWork, signer: PermitSigner, code: str,
               now: dt.datetime) -> svc.VerifyPermitResponse:
        check = service.verify_certificate(uow, keys=self.keys, signer=signer, code=code, now=now)
        return convert.verify_response(check)


def cargo_from_pb(request: Any) -> dict[str, Any] | None:
    """A submitted application's cargo (``SubmittedApplication.cargo``) as stored on the case;
    None when the event carries none."""
    if not request.HasField("cargo"):
        return None
    c = request.cargo
    return {"name": c.name, "weight_kg": c.weight_kg, "length_mm": c.length_mm,
            "width_mm": c.width_mm, "height_mm": c.height_mm}


def overall_from_pb(request: Any) -> dict[str, Any] | None:
    """A submitted application's overall figures as stored on the case; None when absent."""
    if not request.HasField("overall"):
        return None
    o = request.overall
    return {"total_mass_kg": o.total_mass_kg, "length_mm": o.length_mm, "width_mm": o.width_mm,
            "height_mm": o.height_mm}
