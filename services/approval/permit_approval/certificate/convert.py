"""Certificates and keys as protobuf messages (pure functions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit_approval.certificate.content import Content
from permit_approval.certificate.issuing import certificates_of
from permit_approval.certificate.models import CertificateKey
from permit_approval.certificate.service import CertificateCheck
from permit_approval.certificate.signing import raw_public


def _ts(t: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if t is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime((t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC))
    return ts


def _date(iso: str) -> date_pb2.Date:
    d = dt.date.fromisoformat(iso)
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def add_certificates(msg: pb.Permit, permit: Any) -> pb.Permit:
    """The permit's certificate versions on its message (CT-1)."""
    for c in certificates_of(permit):
        content = Content.from_json(c.content)
        m = msg.certificates.add(
            version=c.version, state=pb.CertificateState.Value(f"CERTIFICATE_STATE_{c.state}"),
            reason=c.reason, verification_code=c.verification_code,
            start_date=_date(content.start_date), end_date=_date(content.end_date))
        if (t := _ts(c.create_time)) is not None:
            m.create_time.CopyFrom(t)
        if (t := _ts(c.store_time)) is not None:
            m.store_time.CopyFrom(t)
    return msg


def key_pb(k: CertificateKey) -> pb.CertificateKey:
    msg = pb.CertificateKey(key_id=k.key_id, algorithm=k.algorithm,
                            public_key_pem=k.public_key_pem, public_key=raw_public(k.public_key_pem))
    if (t := _ts(k.activate_time)) is not None:
        msg.activate_time.CopyFrom(t)
    if (t := _ts(k.retire_time)) is not None:
        msg.retire_time.CopyFrom(t)
    return msg


def verify_response(check: CertificateCheck) -> svc.VerifyPermitResponse:
    """Only what a roadside check needs: no holder, no ID numbers, no phone, no agent (CT-3)."""
    resp = svc.VerifyPermitResponse(
        result=pb.VerificationResult.Value(f"VERIFICATION_RESULT_{check.result}"),
        certificate_version=check.certificate_version,
        current_certificate_version=check.current_version)
    p = check.permit
    if p is None:
        return resp
    resp.permit_number = p.number
    resp.plate_numbers.extend(p.plate_numbers)
    resp.start_date.CopyFrom(date_pb2.Date(year=p.start_date.year, month=p.start_date.month,
                                           day=p.start_date.day))
    resp.end_date.CopyFrom(date_pb2.Date(year=p.end_date.year, month=p.end_date.month,
                                         day=p.end_date.day))
    resp.multi_trip = bool(p.multi_trip)
    resp.issuing_province = p.issuing_province
    for r in p.route or []:
        resp.route.add(province=r["province"], roads=list(r.get("roads") or []))
    c = check.content
    if c is not None:
        for v in c.vehicles:
            resp.vehicles.add(plate_number=v["plate_number"], vehicle_type=v.get("vehicle_type") or "")
        if c.overall:
            resp.overall.CopyFrom(pb.CaseOverall(
                total_mass_kg=int(c.overall.get("total_mass_kg") or 0),
                length_mm=int(c.overall.get("length_mm") or 0),
                width_mm=int(c.overall.get("width_mm") or 0),
                height_mm=int(c.overall.get("height_mm") or 0)))
    else:
        for plate in p.plate_numbers:
            resp.vehicles.add(plate_number=plate)
    return resp
