"""Wrappers over peer services' stubs, each call with a deadline.

- ``GrpcFleetDirectory``: fleet vehicles for PQ-10 through
  ``ApplicationService.GetVehicle`` / ``SuggestVehicles``, and the duplicate check
  of a vehicle change or an extension (AP-6) through the internal
  ``ApplicationInternalService.ReserveVehicleTime`` / ``ReleaseVehicleTime`` (a
  refused request's hold is given back by the application service itself when
  it reads the VehicleChangeDecided / ExtensionDecided event).
- ``GrpcRouteValidator``: suggested routes (PQ-7) through
  ``RoutingService.ValidateRoute``.
- ``GrpcDocumentDirectory``: the applicant's own uploads (PQ-7, PQ-10) through
  ``DocumentService.GetDocument`` under the caller's principal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
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


def _date(d: dt.date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day) if d else None


class FleetDirectory(Protocol):
    """Fleet vehicles maintained on the PC side (PQ-10), seen with the caller's identity."""

    def get_vehicle(self, name: str) -> dict[str, Any]:
        """``{plate_number, owner, source, curb_mass_kg, axle_count, wheelbase_mm, tyre_count, retired}``."""
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
        """Give back what ``key`` held when the request could not be recorded after all
        (best effort: a hold without a pending request only narrows the next check)."""
        ...


def _vehicle_dict(v: Any) -> dict[str, Any]:
    return {"plate_number": v.plate_number, "owner": v.owner, "source": v.source,
            "curb_mass_kg": v.curb_mass_kg, "axle_count": v.axle_count,
            "wheelbase_mm": v.wheelbase_mm, "tyre_count": v.tyre_count,
            "retired": v.HasField("retire_time")}


class GrpcFleetDirectory:
    """``ApplicationService.GetVehicle`` with the caller's identity and a deadline."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 3.0) -> None:
        from permit.application.v1 import application_internal_pb2_grpc, application_service_pb2_grpc

        self._stub = application_service_pb2_grpc.ApplicationServiceStub(channel)
        self._internal = application_internal_pb2_grpc.ApplicationInternalServiceStub(channel)
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
        from permit.application.v1 import application_internal_pb2 as ipb

        req = ipb.ReserveVehicleTimeRequest(application=application, key=key, plate_numbers=plates,
                                            start_date=_date(start), end_date=_date(end))
        try:
            self._internal.ReserveVehicleTime(req, timeout=self._timeout, metadata=tuple(
                call_metadata(service_principal(SERVICE_NAME), current_request_id())))
        except grpc.RpcError as e:
            details = ErrorDetails.from_rpc_error(e)
            if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable() from e
            raise details.to_error() from e

    def release_time(self, key: str) -> None:
        from permit.application.v1 import application_internal_pb2 as ipb

        self._internal.ReleaseVehicleTime(
            ipb.ReleaseVehicleTimeRequest(key=key), timeout=self._timeout,
            metadata=tuple(call_metadata(service_principal(SERVICE_NAME), current_request_id())))

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
        from permit.routing.v1 import routing_service_pb2
        from permit.type.v1 import types_pb2

        req = routing_service_pb2.ValidateRouteRequest(
            origin_province=origin, destination_province=destination,
            rows=[types_pb2.RouteRow(province=r["province"], roads=list(r["roads"]))
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
