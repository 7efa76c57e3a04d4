"""ApprovalServicer: protobuf in, use case call, protobuf out. No rules here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.approval.v1 import approval_service_pb2_grpc as svc_grpc
from permit_approval import convert, services
from permit_approval.certificate import convert as certificate_convert
from permit_approval.certificate.desk import CertificateDesk
from permit_approval.clients import DocumentDirectory, FleetDirectory, RouteValidator
from permit_approval.models import Case, Decision, Permit, local_date
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.verification import PermitSigner
from permitkit.context import current_principal
from permitkit.errors import InvalidArgument, Unavailable

FULL_NAME = "permit.approval.v1.ApprovalService"


def _date(msg: Any, field: str) -> dt.date | None:
    if not msg.HasField(field):
        return None
    try:
        value: dt.date | None = convert.date_from_pb(getattr(msg, field))
        return value
    except ValueError:
        raise InvalidArgument("日期不正确。", reason="DATE_INVALID", field=field) from None


def _dates(values: Any, field: str) -> list[dt.date]:
    out = []
    for i, d in enumerate(values):
        try:
            value = convert.date_from_pb(d)
        except ValueError:
            value = None
        if value is None:
            raise InvalidArgument("日期不正确。", reason="DATE_INVALID", field=f"{field}[{i}]")
        out.append(value)
    return out


class ApprovalServicer(svc_grpc.ApprovalServiceServicer):
    """Transport for the approval use cases."""

    def __init__(self, *, uow_factory: Callable[[], ApprovalUnitOfWork], signer: PermitSigner,
                 fleet: FleetDirectory, documents: DocumentDirectory,
                 clock: Callable[[], dt.datetime], routes: RouteValidator | None = None,
                 certificates: CertificateDesk | None = None) -> None:
        self._uow = uow_factory
        self._certificates = certificates
        self._routes = routes
        self._signer = signer
        self._fleet = fleet
        self._documents = documents
        self._clock = clock

    def _case(self, case: Case) -> pb.Case:
        msg: pb.Case = convert.case_pb(case, local_date(self._clock()))
        return msg

    def _permit(self, permit: Permit) -> pb.Permit:
        msg: pb.Permit = convert.permit_pb(permit, local_date(self._clock()), self._signer)
        return certificate_convert.add_certificates(msg, permit)

    # -- cases ------------------------------------------------------------------------------

    def GetCase(self, request: svc.GetCaseRequest, context: Any) -> pb.Case:
        detail = services.get_case(self._uow(), principal=current_principal(), name=request.name)
        msg = self._case(detail.case)
        convert.fill_submitted(msg, detail)
        return msg

    def ListWorkQueue(self, request: svc.ListWorkQueueRequest,
                      context: Any) -> svc.ListWorkQueueResponse:
        state = pb.CaseState.Name(request.state).removeprefix("CASE_STATE_") if request.state else ""
        filters = services.QueueFilter(state=state, permit_class=request.permit_class,
                                       overdue_only=request.overdue_only,
                                       claimed_by_me=request.claimed_by_me, query=request.query.strip())
        queue = services.list_work_queue(self._uow(), principal=current_principal(),
                                         page_size=request.page_size,
                                         page_token=request.page_token, filters=filters,
                                         now=self._clock())
        return svc.ListWorkQueueResponse(
            cases=[self._case(c) for c in queue.cases], next_page_token=queue.next_page_token,
            extension_permits=[self._permit(p) for p in queue.extension_permits],
            state_counts=[svc.StateCount(state=pb.CaseState.Value(f"CASE_STATE_{s}"), count=n)
                          for s, n in queue.state_counts.items()],
            total_size=queue.total_size)

    def AcceptCase(self, request: svc.AcceptCaseRequest, context: Any) -> pb.Case:
        return self._case(services.accept_case(self._uow(), principal=current_principal(),
                                               name=request.name, etag=request.etag,
                                               now=self._clock()))

    def ReturnCase(self, request: svc.ReturnCaseRequest, context: Any) -> pb.Case:
        return self._case(services.return_case(self._uow(), principal=current_principal(),
                                               name=request.name, reason=request.reason,
                                               etag=request.etag, now=self._clock()))

    def RefuseCase(self, request: svc.RefuseCaseRequest, context: Any) -> pb.Case:
        return self._case(services.refuse_case(self._uow(), principal=current_principal(),
                                               name=request.name, reason=request.reason,
                                               etag=request.etag, now=self._clock()))

    def ClaimReview(self, request: svc.ClaimReviewRequest, context: Any) -> pb.Case:
        return self._case(services.claim_review(self._uow(), principal=current_principal(),
                                                name=request.name, now=self._clock()))

    def ReleaseReview(self, request: svc.ReleaseReviewRequest, context: Any) -> pb.Case:
        return self._case(services.release_review(self._uow(), principal=current_principal(),
                                                  name=request.name, now=self._clock()))

    def SuspendReview(self, request: svc.SuspendReviewRequest, context: Any) -> pb.Case:
        return self._case(services.suspend_review(self._uow(), principal=current_principal(),
                                                  name=request.name, reason=request.reason,
                                                  now=self._clock()))

    def ResumeReview(self, request: svc.ResumeReviewRequest, context: Any) -> pb.Case:
        return self._case(services.resume_review(self._uow(), principal=current_principal(),
                                                 name=request.name, now=self._clock()))

    def DecideReview(self, request: svc.DecideReviewRequest, context: Any) -> pb.Case:
        return self._case(services.decide_review(
            self._uow(), principal=current_principal(), name=request.name,
            decision=convert.decision_from_pb(request.decision), reason=request.reason,
            suggested_route=convert.route_from_pb(request.suggested_route),
            conditions=list(request.conditions), etag=request.etag, now=self._clock(),
            routes=self._routes))

    def ProposeRouteAdjustment(self, request: svc.ProposeRouteAdjustmentRequest,
                               context: Any) -> pb.Case:
        return self._case(services.decide_review(
            self._uow(), principal=current_principal(), name=request.name,
            decision=Decision.REQUIRE_ADJUSTMENT, reason=request.reason,
            suggested_route=convert.route_from_pb(request.suggested_route), conditions=[],
            etag=request.etag, now=self._clock(), routes=self._routes))

    def RespondToAdjustment(self, request: svc.RespondToAdjustmentRequest,
                            context: Any) -> pb.Case:
        return self._case(services.respond_to_adjustment(
            self._uow(), documents=self._documents, principal=current_principal(),
            name=request.name, accept=request.accept, escort_plan=request.escort_plan,
            etag=request.etag, now=self._clock()))

    def RequestVehicleChange(self, request: svc.RequestVehicleChangeRequest,
                             context: Any) -> pb.Case:
        return self._case(services.request_vehicle_change(
            self._uow(), fleet=self._fleet, documents=self._documents,
            principal=current_principal(), case_name=request.case,
            old_plate_number=request.old_plate_number, new_vehicle=request.new_vehicle,
            power_of_attorney=request.power_of_attorney, now=self._clock()))

    def DecideVehicleChange(self, request: svc.DecideVehicleChangeRequest,
                            context: Any) -> pb.Case:
        return self._case(services.decide_vehicle_change(
            self._uow(), principal=current_principal(), name=request.name,
            decision=convert.decision_from_pb(request.decision), reason=request.reason,
            now=self._clock()))

    # -- permits ----------------------------------------------------------------------------

    def IssuePermit(self, request: svc.IssuePermitRequest, context: Any) -> pb.Permit:
        permit = services.issue_permit(self._uow(), principal=current_principal(),
                                       case_name=request.case, now=self._clock(),
                                       certificates=self._issuer())
        self._wake_certificates()
        return self._permit(permit)

    def GetPermit(self, request: svc.GetPermitRequest, context: Any) -> pb.Permit:
        return self._permit(services.get_permit(self._uow(), principal=current_principal(),
                                                name=request.name))

    def VerifyPermit(self, request: svc.VerifyPermitRequest,
                     context: Any) -> svc.VerifyPermitResponse:
        if self._certificates is not None:
            # CT-2: signed certificate payloads, and bare permit codes, with the current state.
            return self._certificates.verify(self._uow(), self._signer,
                                             request.verification_code, self._clock())
        v = services.verify_permit(self._uow(), signer=self._signer,
                                   verification_code=request.verification_code,
                                   now=self._clock())
        resp = svc.VerifyPermitResponse(
            result=pb.VerificationResult.Value(f"VERIFICATION_RESULT_{v.result}"))
        if v.permit is not None:
            resp.permit_number = v.permit.number
            resp.plate_numbers.extend(v.permit.plate_numbers)
            resp.start_date.CopyFrom(convert.date_pb(v.permit.start_date))
            resp.end_date.CopyFrom(convert.date_pb(v.permit.end_date))
        return resp

    def DownloadCertificate(self, request: svc.DownloadCertificateRequest,
                            context: Any) -> Iterator[svc.DownloadCertificateResponse]:
        return self._desk().download(self._uow(), current_principal(), request)

    def ListCertificateKeys(self, request: svc.ListCertificateKeysRequest,
                            context: Any) -> svc.ListCertificateKeysResponse:
        return self._desk().list_keys(self._uow(), self._clock())

    def _desk(self) -> CertificateDesk:
        if self._certificates is None:
            raise Unavailable("通行证服务未启用。")
        return self._certificates

    def _issuer(self) -> Any:
        return self._certificates.issuer if self._certificates is not None else None

    def _wake_certificates(self) -> None:
        if self._certificates is not None:
            self._certificates.issuer.wake()

    def AbolishPermit(self, request: svc.AbolishPermitRequest, context: Any) -> pb.Permit:
        return self._permit(services.abolish_permit(self._uow(), principal=current_principal(),
                                                    name=request.name, reason=request.reason,
                                                    now=self._clock()))

    def RequestExtension(self, request: svc.RequestExtensionRequest, context: Any) -> pb.Permit:
        return self._permit(services.request_extension(
            self._uow(), principal=current_principal(), permit_name=request.permit,
            new_end_date=_date(request, "new_end_date"), provinces=list(request.provinces),
            reason=request.reason, now=self._clock(), fleet=self._fleet))

    def DecideExtension(self, request: svc.DecideExtensionRequest, context: Any) -> pb.Permit:
        permit = services.decide_extension(
            self._uow(), principal=current_principal(), name=request.name,
            decision=convert.decision_from_pb(request.decision), reason=request.reason,
            now=self._clock(), certificates=self._issuer())
        self._wake_certificates()
        return self._permit(permit)

    def GetWorkingCalendar(self, request: svc.GetWorkingCalendarRequest,
                           context: Any) -> svc.WorkingCalendar:
        view = services.get_working_calendar(self._uow(), principal=current_principal(),
                                             name=request.name)
        if view is None:
            return svc.WorkingCalendar(name=request.name, known=False)
        return _calendar_pb(view)

    def UpdateWorkingCalendar(self, request: svc.UpdateWorkingCalendarRequest,
                              context: Any) -> svc.WorkingCalendar:
        view = services.update_working_calendar(
            self._uow(), principal=current_principal(), name=request.name,
            holidays=_dates(request.holidays, "holidays"),
            workdays=_dates(request.workdays, "workdays"), now=self._clock())
        return _calendar_pb(view)


def _calendar_pb(view: services.CalendarView) -> svc.WorkingCalendar:
    return svc.WorkingCalendar(
        name=f"workingCalendars/{view.year}", holidays=[convert.date_pb(d) for d in view.holidays],
        workdays=[convert.date_pb(d) for d in view.workdays], source=view.source, known=True)


def add_to_server(servicer: ApprovalServicer, server: Any) -> None:
    svc_grpc.add_ApprovalServiceServicer_to_server(servicer, server)
