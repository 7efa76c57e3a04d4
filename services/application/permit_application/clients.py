"""Wrappers over peer services' stubs, with a deadline on every call: the outbox
relay handlers (approval, routing) and the route validator port (routing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit.approval.v1 import approval_pb2 as apb
from permit.approval.v1 import approval_service_pb2 as aspb
from permit.approval.v1 import approval_service_pb2_grpc as aspb_grpc
from permit.documents.v1 import documents_pb2 as dpb
from permit.documents.v1 import documents_service_pb2 as dspb
from permit.documents.v1 import documents_service_pb2_grpc as dspb_grpc
from permit.routing.v1 import routing_pb2 as rpb
from permit.routing.v1 import routing_service_pb2 as rspb
from permit.routing.v1 import routing_service_pb2_grpc as rspb_grpc
from permit_application import values as vo
from permit_application.services import (
    TOPIC_APPROVED_ROUTE,
    TOPIC_CANCEL_CASE,
    TOPIC_CREATE_CASE,
    DocumentRef,
    RouteCheck,
    local_route_check,
)
from permitkit.errors import ErrorDetails, FieldViolation, Unavailable

log = structlog.get_logger()

Handler = Callable[[str, dict[str, Any]], None]


def _date(s: str) -> date_pb2.Date | None:
    if not s:
        return None
    d = dt.date.fromisoformat(s)
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


class ApprovalClient:
    """Delivers submissions and withdrawals to ApprovalService (idempotent by event id)."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 5.0) -> None:
        self.stub = aspb_grpc.ApprovalServiceStub(channel)
        self.timeout = timeout

    def create_case(self, event_id: str, p: dict[str, Any]) -> None:
        self.stub.CreateCase(aspb.CreateCaseRequest(
            event_id=event_id, application=p["application"], application_number=p["application_number"],
            applicant=p["applicant"], origin_province=p["origin_province"],
            destination_province=p["destination_province"], route_provinces=p["route_provinces"],
            permit_class=p["permit_class"], plate_numbers=p["plate_numbers"],
            start_date=_date(p["start_date"]), end_date=_date(p["end_date"]), multi_trip=p["multi_trip"],
            submission=p["submission"], documents=p["documents"],
            route=[apb.RouteRow(province=r["province"], roads=r["roads"]) for r in p.get("route", [])],
            # Events queued before the payload carried vehicles deliver none (PQ-10 then
            # looks the replaced vehicle up in the fleet).
            vehicles=[apb.CaseVehicle(
                plate_number=v["plate_number"], fleet_vehicle=v.get("fleet_vehicle") or "",
                curb_mass_kg=int(v.get("curb_mass_kg") or 0), axle_count=int(v.get("axle_count") or 0),
                wheelbase_mm=int(v.get("wheelbase_mm") or 0), tyre_count=int(v.get("tyre_count") or 0),
                vehicle_type=v.get("vehicle_type") or "")
                for v in p.get("vehicles", [])],
            # Events queued before the payload carried them deliver neither (CT-1).
            cargo=apb.CaseCargo(**p["cargo"]) if p.get("cargo") else None,
            overall=apb.CaseOverall(**p["overall"]) if p.get("overall") else None,
        ), timeout=self.timeout)

    def cancel_case(self, event_id: str, p: dict[str, Any]) -> None:
        self.stub.CancelCase(aspb.CancelCaseRequest(event_id=event_id, application=p["application"],
                                                    reason=p.get("reason", "")), timeout=self.timeout)


class RoutingClient:
    """RoutingService: validation of a passage's route, and the approved-route projection."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        self.stub = rspb_grpc.RoutingServiceStub(channel)
        self.timeout = timeout

    def record_approved_route(self, event_id: str, p: dict[str, Any]) -> None:
        ts = timestamp_pb2.Timestamp()
        if p.get("approve_time"):
            ts.FromDatetime(dt.datetime.fromisoformat(p["approve_time"]).astimezone(dt.UTC))
        self.stub.RecordApprovedRoute(rspb.RecordApprovedRouteRequest(
            event_id=event_id, applicant=p["applicant"], application=p.get("application", ""),
            origin_province=p["origin_province"], destination_province=p["destination_province"],
            rows=[rpb.RouteRow(province=r["province"], roads=r["roads"]) for r in p["rows"]],
            approve_time=ts if p.get("approve_time") else None,
        ), timeout=self.timeout)

    def validate(self, passage: vo.Passage) -> RouteCheck:
        """ValidateRoute; when routing is unreachable, fall back to the rows' own provinces
        so a routing outage does not block the form (logged)."""
        try:
            resp = self.stub.ValidateRoute(rspb.ValidateRouteRequest(
                origin_province=passage.origin_province, destination_province=passage.destination_province,
                rows=[rpb.RouteRow(province=r.province, roads=r.roads) for r in passage.route],
            ), timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                            grpc.StatusCode.UNIMPLEMENTED):
                log.warning("routing_unavailable_fallback", code=e.code().name)
                return local_route_check(passage)
            d = ErrorDetails.from_rpc_error(e)
            if d.code == grpc.StatusCode.INVALID_ARGUMENT:
                problems = [FieldViolation("passage." + v.field.replace("rows", "route", 1) if v.field else "passage.route",
                                           v.description, v.reason) for v in d.violations]
                return RouteCheck(passage.route_provinces(), problems or [
                    FieldViolation("passage.route", d.message or "通行路线有误。", d.reason or "ROUTE_INVALID")])
            log.warning("routing_error_fallback", code=e.code().name, reason=d.reason)
            return local_route_check(passage)

        def fv(problem: Any) -> FieldViolation:
            f = problem.field or ""
            path = "passage." + (f.replace("rows", "route", 1) if f else "route")
            if problem.reason == "LAST_ROW_NOT_DESTINATION":
                path = "passage.route_confirmed"
            return FieldViolation(path, problem.message, problem.reason)

        # Only the warning the manual names needs the user's confirmation (AP-7a).
        warnings = [fv(w) for w in resp.warnings if w.reason == "LAST_ROW_NOT_DESTINATION"]
        return RouteCheck(list(resp.approving_provinces), [fv(e) for e in resp.errors], warnings)


def relay_handlers(approval: ApprovalClient, routing: RoutingClient) -> dict[str, Handler]:
    """Outbox topic -> delivery."""
    return {
        TOPIC_CREATE_CASE: approval.create_case,
        TOPIC_CANCEL_CASE: approval.cancel_case,
        TOPIC_APPROVED_ROUTE: routing.record_approved_route,
    }


class DocumentsClient:
    """DocumentService.GetDocument as the caller: a reference must exist, be the
    caller's own (the service answers NOT_FOUND otherwise) and be of a fitting kind."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        self.stub = dspb_grpc.DocumentServiceStub(channel)
        self.timeout = timeout

    def check(self, refs: list[DocumentRef]) -> list[FieldViolation]:
        out: list[FieldViolation] = []
        for ref in refs:
            try:
                doc = self.stub.GetDocument(dspb.GetDocumentRequest(name=ref.document), timeout=self.timeout)
            except grpc.RpcError as e:
                if e.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
                                grpc.StatusCode.INVALID_ARGUMENT):
                    out.append(FieldViolation(ref.field, "材料不存在或已删除，请重新上传。", "DOCUMENT_NOT_FOUND"))
                    continue
                # Without the check another party's upload could reach a case and be
                # granted to the route provinces: a documents outage refuses the
                # submission (nothing is written; the same request succeeds later).
                log.warning("documents_check_unavailable", code=e.code().name)
                raise Unavailable(message="材料服务暂时不可用，暂时无法核对所选材料，请稍后重试。",
                                  reason="DOCUMENTS_UNAVAILABLE") from None
            kind = dpb.DocumentKind.Name(doc.kind).removeprefix("DOCUMENT_KIND_")
            if ref.kinds and kind not in ref.kinds:
                out.append(FieldViolation(ref.field, "上传的材料类型与所需材料不符，请重新上传。",
                                          "DOCUMENT_KIND_MISMATCH"))
        return out
