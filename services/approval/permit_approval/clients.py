"""Wrappers over peer services' stubs, each call with a deadline.

- ``ReviewEventSender``: the outbox handler that delivers review events as
  ``ApplicationService.RecordReviewEvent`` under the ``service`` principal.
- ``GrpcFleetDirectory``: fleet vehicles for PQ-10 through
  ``ApplicationService.GetVehicle`` / ``SuggestVehicles``, and the duplicate check
  of a vehicle change or an extension (AP-6) through ``ReserveVehicleTime``.
- ``VehicleTimeReleaser``: the outbox handler that gives back the time a refused
  vehicle change or extension held (``ReleaseVehicleTime``).
- ``GrpcRouteValidator``: suggested routes (PQ-7) through
  ``RoutingService.ValidateRoute``.
- ``DocumentGrantSender``: the outbox handler that delivers document grants
  as ``DocumentService.GrantAccess`` under the ``service`` principal.
- ``GrpcDocumentDirectory``: the applicant's own uploads (PQ-7, PQ-10) through
  ``DocumentService.GetDocument`` under the caller's principal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit_approval import errors
from permitkit.client import call_metadata, service_principal
from permitkit.context import current_principal, current_request_id
from permitkit.errors import ErrorDetails, Unavailable

SERVICE_NAME = "approval"
# What DocumentService answers for a document the caller may not use: absent, someone
# else's (it never says which), or a malformed name.
_DOCUMENT_REFUSALS = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
                      grpc.StatusCode.INVALID_ARGUMENT)


def _date(iso: str | None) -> date_pb2.Date | None:
    if not iso:
        return None
    d = dt.date.fromisoformat(iso)
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


class ReviewEventSender:
    """Delivers one outbox payload as ``RecordReviewEvent`` (idempotent by event id)."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 5.0) -> None:
        from permit.application.v1 import application_pb2, application_service_pb2_grpc

        self._pb = application_pb2
        self._stub = application_service_pb2_grpc.ApplicationServiceStub(channel)
        self._timeout = timeout

    def build_request(self, event_id: str, payload: dict[str, Any]) -> Any:
        from permit.application.v1 import application_service_pb2 as svc

        kind = self._pb.ReviewEventKind.Value(f"REVIEW_EVENT_KIND_{payload['kind']}")
        req = svc.RecordReviewEventRequest(
            event_id=event_id, application=payload["application"], kind=kind,
            province=payload.get("province") or "", reason=payload.get("reason") or "",
            officer=payload.get("officer") or "", permit=payload.get("permit") or "",
            permit_number=payload.get("permit_number") or "",
            submission=int(payload.get("submission") or 0),
            old_plate_number=payload.get("old_plate_number") or "",
            new_plate_number=payload.get("new_plate_number") or "",
            provinces=list(payload.get("provinces") or []),
            documents=list(payload.get("documents") or []),
        )
        if payload.get("occur_time"):
            ts = timestamp_pb2.Timestamp()
            ts.FromDatetime(dt.datetime.fromisoformat(payload["occur_time"]))
            req.occur_time.CopyFrom(ts)
        for src, dst in (("permit_start_date", req.permit_start_date),
                         ("permit_end_date", req.permit_end_date)):
            d = _date(payload.get(src))
            if d is not None:
                dst.CopyFrom(d)
        for row in payload.get("route") or []:
            req.route.add(province=row["province"], roads=list(row.get("roads") or []))
        return req

    def __call__(self, event_id: str, payload: dict[str, Any]) -> None:
        self._stub.RecordReviewEvent(
            self.build_request(event_id, payload), timeout=self._timeout,
            metadata=tuple(call_metadata(service_principal(SERVICE_NAME), current_request_id())))


class VehicleTimeReleaser:
    """Delivers one outbox payload as ``ReleaseVehicleTime`` (idempotent by key)."""

    def __init__(self, channel_or_stub: Any, *, timeout: float = 5.0) -> None:
        from permit.application.v1 import application_service_pb2_grpc

        self._stub = (channel_or_stub if hasattr(channel_or_stub, "ReleaseVehicleTime")
                      else application_service_pb2_grpc.ApplicationServiceStub(channel_or_stub))
        self._timeout = timeout

    def __call__(self, event_id: str, payload: dict[str, Any]) -> None:
        from permit.application.v1 import application_service_pb2 as svc

        self._stub.ReleaseVehicleTime(
            svc.ReleaseVehicleTimeRequest(key=payload["key"]), timeout=self._timeout,
            metadata=tuple(call_metadata(service_principal(SERVICE_NAME), current_request_id())))


class DocumentGrantSender:
    """Delivers one grant as ``DocumentService.GrantAccess``: officers of the provinces
    reviewing an application may read its documents. GrantAccess is idempotent, so a
    redelivery after a lost answer changes nothing."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 5.0) -> None:
        from permit.documents.v1 import documents_service_pb2_grpc

        self._stub = documents_service_pb2_grpc.DocumentServiceStub(channel)
        self._timeout = timeout

    @staticmethod
    def build_request(payload: dict[str, Any]) -> Any:
        from permit.documents.v1 import documents_service_pb2 as svc

        return svc.GrantAccessRequest(application=payload["application"],
                                      provinces=list(payload.get("provinces") or []),
                                      documents=list(payload.get("documents") or []),
                                      owner=str(payload.get("owner") or ""))

    def __call__(self, event_id: str, payload: dict[str, Any]) -> None:
        self._stub.GrantAccess(
            self.build_request(payload), timeout=self._timeout,
            metadata=tuple(call_metadata(service_principal(SERVICE_NAME), current_request_id())))


class FleetDirectory(Protocol):
    """Fleet vehicles maintained on the PC side (PQ-10), seen with the caller's identity."""

    def get_vehicle(self, name: str) -> dict[str, Any]:
        """``{plate_number, owner, source, curb_mass_kg, axle_count, wheelbase_mm, tyre_count}``."""
        ...

    def find_by_plate(self, plate_number: str) -> dict[str, Any] | None:
        """The caller's vehicle with exactly this plate, or None."""
        ...

    def reserve_time(self, *, application: str, key: str, plates: list[str],
                     start: dt.date | None = None, end: dt.date | None = None) -> None:
        """The duplicate check of a vehicle change or extension (AP-6), holding the
        vehicles' time under ``key``; raises VEHICLE_TIME_CONFLICT."""
        ...

    def release_time(self, key: str) -> None:
        """Give back what ``key`` held (best effort; the outbox makes it certain)."""
        ...


def _vehicle_dict(v: Any) -> dict[str, Any]:
    return {"plate_number": v.plate_number, "owner": v.owner, "source": v.source,
            "curb_mass_kg": v.curb_mass_kg, "axle_count": v.axle_count,
            "wheelbase_mm": v.wheelbase_mm, "tyre_count": v.tyre_count}


class GrpcFleetDirectory:
    """``ApplicationService.GetVehicle`` with the caller's identity and a deadline."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        from permit.application.v1 import application_service_pb2_grpc

        self._stub = application_service_pb2_grpc.ApplicationServiceStub(channel)
        self._timeout = timeout

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout,
                          metadata=tuple(call_metadata(current_principal(), current_request_id())))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code == grpc.StatusCode.NOT_FOUND:
                raise errors.VehicleNotFound(field="new_vehicle") from e
            if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable() from e
            raise details.to_error() from e

    def get_vehicle(self, name: str) -> dict[str, Any]:
        from permit.application.v1 import application_service_pb2 as svc

        return _vehicle_dict(self._call(self._stub.GetVehicle, svc.GetVehicleRequest(name=name)))

    def reserve_time(self, *, application: str, key: str, plates: list[str],
                     start: dt.date | None = None, end: dt.date | None = None) -> None:
        from permit.application.v1 import application_service_pb2 as svc

        req = svc.ReserveVehicleTimeRequest(application=application, key=key, plate_numbers=plates,
                                            start_date=_date(start.isoformat() if start else None),
                                            end_date=_date(end.isoformat() if end else None))
        try:
            self._stub.ReserveVehicleTime(req, timeout=self._timeout, metadata=tuple(
                call_metadata(service_principal(SERVICE_NAME), current_request_id())))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable() from e
            raise details.to_error() from e

    def release_time(self, key: str) -> None:
        VehicleTimeReleaser(self._stub, timeout=self._timeout)("", {"key": key})

    def find_by_plate(self, plate_number: str) -> dict[str, Any] | None:
        from permit.application.v1 import application_service_pb2 as svc

        resp = self._call(self._stub.SuggestVehicles,
                          svc.SuggestVehiclesRequest(plate_prefix=plate_number, page_size=50))
        for v in resp.vehicles:
            if v.plate_number == plate_number:
                return _vehicle_dict(v)
        return None


class RouteValidator(Protocol):
    """Checks a whole route for an origin and destination (PQ-7 suggestions)."""

    def validate(self, *, origin: str, destination: str,
                 rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """The route's errors as ``(reason, message)``; empty when usable."""
        ...


class GrpcRouteValidator:
    """``RoutingService.ValidateRoute`` with a deadline; warnings do not block."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        from permit.routing.v1 import routing_service_pb2_grpc

        self._stub = routing_service_pb2_grpc.RoutingServiceStub(channel)
        self._timeout = timeout

    def validate(self, *, origin: str, destination: str,
                 rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        from permit.routing.v1 import routing_pb2, routing_service_pb2

        req = routing_service_pb2.ValidateRouteRequest(
            origin_province=origin, destination_province=destination,
            rows=[routing_pb2.RouteRow(province=r["province"], roads=list(r["roads"]))
                  for r in rows])
        try:
            resp = self._stub.ValidateRoute(
                req, timeout=self._timeout,
                metadata=tuple(call_metadata(current_principal(), current_request_id())))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code == grpc.StatusCode.INVALID_ARGUMENT:
                return [(details.reason or "ROUTE_INVALID", details.message)]
            raise Unavailable() from e
        if resp.valid:
            return []
        return [(p.reason, p.message) for p in resp.errors] or [("ROUTE_INVALID", "路线无效。")]


@dataclass(frozen=True)
class DocumentInfo:
    """What approval needs to know of an uploaded document."""

    name: str
    owner: str  # "parties/{party}"
    kind: str  # DocumentKind without its prefix: "ESCORT_PLAN", "POWER_OF_ATTORNEY", ...


class DocumentDirectory(Protocol):
    """Uploaded documents as the caller sees them (PQ-7, PQ-10)."""

    def find(self, name: str) -> DocumentInfo | None:
        """The document if the caller may read it; None when it is absent or not the caller's."""
        ...


class GrpcDocumentDirectory:
    """``DocumentService.GetDocument`` with the caller's identity and a deadline.

    Asking as the caller lets the documents service's own rule decide whose a document
    is: another party's upload is NOT_FOUND there, exactly like a missing one. A
    documents outage is UNAVAILABLE here, so the request fails before anything is written.
    """

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        from permit.documents.v1 import documents_pb2, documents_service_pb2_grpc

        self._stub = documents_service_pb2_grpc.DocumentServiceStub(channel)
        self._kinds = {number: name.removeprefix("DOCUMENT_KIND_")
                       for name, number in documents_pb2.DocumentKind.items()}
        self._timeout = timeout

    def find(self, name: str) -> DocumentInfo | None:
        from permit.documents.v1 import documents_service_pb2 as svc

        try:
            doc = self._stub.GetDocument(
                svc.GetDocumentRequest(name=name), timeout=self._timeout,
                metadata=tuple(call_metadata(current_principal(), current_request_id())))
        except grpc.RpcError as e:
            if ErrorDetails.from_rpc_error(e).code in _DOCUMENT_REFUSALS:
                return None
            raise Unavailable() from e
        # A kind this build does not know yet fits no expected kind.
        return DocumentInfo(name=doc.name, owner=doc.owner, kind=self._kinds.get(doc.kind, ""))
