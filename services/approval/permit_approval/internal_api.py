"""ApprovalInternalService: questions peers ask about cases (internal, never on the gateway).

Identity shows an applicant's enterprise information to the officers of a
province only while that party has a case there (PC-2); approval, which holds
the cases, answers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from permit.approval.v1 import approval_internal_pb2 as ipb
from permit.approval.v1 import approval_internal_pb2_grpc as igrpc
from permit.type.v1 import types_pb2
from permit_approval import access, legacy
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permitkit import legacy_sync
from permitkit.context import Principal, current_principal
from permitkit.db import utcnow
from permitkit.errors import FieldViolation, InvalidArgument
from permitkit.server import ServiceSpec

FULL_NAME = "permit.approval.v1.ApprovalInternalService"


def check_applicant_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, applicant: str,
                         province: str) -> bool:
    """True when the applicant has a case with this province as origin or on its route (PC-2)."""
    access.require_service(principal)
    bad = [FieldViolation(f, "请填写。", "REQUIRED") for f, v in (("applicant", applicant), ("province", province))
           if not v]
    if bad:
        raise InvalidArgument("参数不完整。", reason="INVALID_FIELD", violations=bad)
    with uow:
        return uow.cases.applicant_in_province(applicant, province)


class ApprovalInternalServicer(igrpc.ApprovalInternalServiceServicer):
    """Transport of the internal use cases."""

    def __init__(self, uow_factory: Callable[[], ApprovalUnitOfWork],
                 clock: Callable[[], dt.datetime] = utcnow, certificates: Any = None) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._certificates = certificates  # CertificateIssuer: imported permits' certificates (CT-1)

    def CheckApplicantCase(self, request: ipb.CheckApplicantCaseRequest,
                           context: Any) -> ipb.CheckApplicantCaseResponse:
        return ipb.CheckApplicantCaseResponse(has_case=check_applicant_case(
            self._uow(), principal=current_principal(), applicant=request.applicant, province=request.province))


    def ImportLegacyPermits(self, request: ipb.ImportLegacyPermitsRequest,
                            context: Any) -> ipb.ImportLegacyPermitsResponse:
        principal = current_principal()
        try:
            export = json.loads(request.export_json.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidArgument("导入文件不是有效的 JSON。", reason="INVALID_FIELD", field="export_json") from None
        outcomes = legacy.import_legacy_permits(self._uow(), principal=principal, export=export, now=self._clock(),
                                                certificates=self._certificates)
        if self._certificates is not None:
            self._certificates.wake()
        return ipb.ImportLegacyPermitsResponse(outcomes=[
            legacy_sync.outcome_pb(o, types_pb2.LegacySyncOutcome, types_pb2.LegacySyncResult)
            for o in outcomes])


def internal_service_spec(uow_factory: Callable[[], ApprovalUnitOfWork],
                          clock: Callable[[], dt.datetime] = utcnow, certificates: Any = None) -> ServiceSpec:
    return (igrpc.add_ApprovalInternalServiceServicer_to_server,
            ApprovalInternalServicer(uow_factory, clock, certificates), FULL_NAME)
