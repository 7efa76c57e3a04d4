"""Wrappers over peer services' stubs, with a deadline on every call: the outbox
relay's subscriptions (approval, routing) and the ports to routing and documents."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from google.type import date_pb2

from permit.application.v1 import events_pb2 as ev
from permit.documents.v1 import documents_pb2 as dpb
from permit.documents.v1 import documents_service_pb2 as dspb
from permit.documents.v1 import documents_service_pb2_grpc as dspb_grpc
from permit.routing.v1 import routing_service_pb2 as rspb
from permit.routing.v1 import routing_service_pb2_grpc as rspb_grpc
from permit.type.v1 import types_pb2 as tpb
from permit_application import values as vo
from permit_application.services import (
    DocumentRef,
    RouteCheck,
    local_route_check,
)
from permitkit.errors import ErrorDetails, FieldViolation, Unavailable
from permitkit.outbox import GrpcSink, Subscription

log = structlog.get_logger()

Handler = Callable[[str, dict[str, Any]], None]


def _date(s: str) -> date_pb2.Date | None:
    if not s:
        return None
    d = dt.date.fromisoformat(s)
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


_ROW = re.compile(r"^[a-z_]+\[(\d+)\](.*)$")


def route_field(field: str) -> str:
    """Where in the passage a route problem is: for the n-th row, the row's index and the part
    of the row (``.roads[1]``) the routing service names, under this form's own field;
    the origin and destination keep their names; the route as a whole otherwise."""
    m = _ROW.match(field or "")
    if m:
        return f"passage.route[{m.group(1)}]{m.group(2)}"
    return f"passage.{field}" if field in ("origin_province", "destination_province") else "passage.route"


class RoutingClient:
    """RoutingService: validation of a passage's route, and the approved-route projection."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        self.stub = rspb_grpc.RoutingServiceStub(channel)
        self.timeout = timeout

    def validate(self, passage: vo.Passage) -> RouteCheck:
        """ValidateRoute; when routing is unreachable, fall back to the rows' own provinces
        so a routing outage does not block the form (logged)."""
        try:
            resp = self.stub.ValidateRoute(rspb.ValidateRouteRequest(
                origin_province=passage.origin_province, destination_province=passage.destination_province,
                rows=[tpb.RouteRow(province=r.province, roads=r.roads) for r in passage.route],
            ), timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                            grpc.StatusCode.UNIMPLEMENTED):
                log.warning("routing_unavailable_fallback", code=e.code().name)
                return local_route_check(passage)
            d = ErrorDetails.from_rpc_error(e)
            if d.code == grpc.StatusCode.INVALID_ARGUMENT:
                problems = [FieldViolation(route_field(v.field), v.description, v.reason) for v in d.violations]
                return RouteCheck(passage.route_provinces(), problems or [
                    FieldViolation("passage.route", d.message or "通行路线有误。", d.reason or "ROUTE_INVALID")])
            log.warning("routing_error_fallback", code=e.code().name, reason=d.reason)
            return local_route_check(passage)

        def fv(problem: Any) -> FieldViolation:
            path = route_field(problem.field)
            if problem.reason == "LAST_ROW_NOT_DESTINATION":
                path = "passage.route_confirmed"
            return FieldViolation(path, problem.message, problem.reason)

        # Only the warning the manual names needs the user's confirmation (AP-7a).
        warnings = [fv(w) for w in resp.warnings if w.reason == "LAST_ROW_NOT_DESTINATION"]
        return RouteCheck(list(resp.approving_provinces), [fv(e) for e in resp.errors], warnings)


# What the notifications service tells people of (MS-1): the withdrawal is done.
NOTIFIED = (ev.ApplicationWithdrawn,)


def relay_subscriptions(approval: grpc.Channel, routing: grpc.Channel, notifications: grpc.Channel | None = None,
                        *, timeout: float = 5.0) -> list[Subscription]:
    """Who receives which of the application context's events, and through which channel."""
    subs = [
        Subscription.of("approval", (ev.ApplicationSubmitted, ev.ApplicationCorrected, ev.ApplicationWithdrawn),
                        GrpcSink(approval, producer="application", timeout=timeout)),
        Subscription.of("routing", (ev.RouteApproved,), GrpcSink(routing, producer="application", timeout=timeout)),
    ]
    if notifications is not None:
        subs.append(Subscription.of("notifications", NOTIFIED,
                                    GrpcSink(notifications, producer="application", timeout=timeout)))
    return subs


class DocumentsClient:
    """DocumentService.GetDocument as the caller: a reference must exist, be the
    caller's own (the service answers NOT_FOUND otherwise) and be of a fitting kind."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        self.stub = dspb_grpc.DocumentServiceStub(channel)
        self.timeout = timeout

    def check(self, refs: list[DocumentRef]) -> list[FieldViolation]:
        out: list[FieldViolation] = []
        # Every reference asked at once on the one channel: one round trip's wait, not one per file.
        pending = [(ref, self.stub.GetDocument.future(dspb.GetDocumentRequest(name=ref.document),
                                                      timeout=self.timeout)) for ref in refs]
        for ref, call in pending:
            try:
                doc = call.result()
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
